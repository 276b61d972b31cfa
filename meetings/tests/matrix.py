"""This app's rows of the access matrix (tests/test_matrix.py reads them): ``rows(t)`` gets the matrix module
(its spec makers: public, login, perm, scoped, owned) and returns {url name: spec}; ``build(m, t)`` makes this
app's objects on side A1 and side B1 through the app's services; ``MARKERS`` maps a model to the field a page
shows of it."""

MARKERS: dict = {}


def rows(t) -> dict:
    return {}


def build(m, t) -> None:
    return None
