"""This app's rows of the access matrix (tests/test_matrix.py reads them): ``rows(t)`` gets the matrix module
(its spec makers: public, login, perm, scoped, owned) and returns {url name: spec}; ``build(m, t)`` makes this
app's objects on side A1 and side B1 through the app's services; ``MARKERS`` maps a model to the field a page
shows of it.

Residents reach the activities as the registry person their account is linked to (resources' ``BookerLink``:
the matrix's resident is the person of side A1): their own sign-up is theirs, the one of side B1 someone else's
(404). Organisers see the activities of their places (404 outside), may change them with ``change`` (403 without)."""

from activities.models import Activity, Participant, Session, SignUp

MARKERS: dict = {Activity: "title", Session: "place", SignUp: "pk", Participant: "pk"}


def rows(t) -> dict:
    act = {"kw": lambda m, o: {"pk": m.objects[(Activity, "A1")].pk}}
    posted = {"method": "post", "ok": (200, 302, 400)}
    return {
        # residents (a phone): as the linked registry person, or redirected to the phone code (anonymous)
        "activities:browse": t.owned("booker_link", "resident", kw=lambda m, o: {}),
        "activities:mine": t.owned("booker_link", "resident", kw=lambda m, o: {}),
        "activities:activity": t.owned("booker_link", "resident", **act),
        "activities:signup": t.owned("booker_link", "resident", method="post", ok=(302,), **act),
        "activities:mine_action": t.owned(SignUp, "resident", method="post", ok=(302,),
                                          kw=lambda m, o: {"pk": o.pk, "action": "cancel"}),
        "activities:checkin": t.owned("booker_link", "resident",
                                      kw=lambda m, o: {"token": m.objects[(Session, "A1")].checkin_token}),
        # not attended yet: back to my sign-ups with why (302); another family's participant is a 404
        "activities:certificate": t.owned(Participant, "resident", ok=(302,)),
        # organisers
        "activities:list": t.perm("activities.view_activity"),
        "activities:new": t.perm("activities.add_activity"),
        "activities:detail": t.scoped(Activity),
        "activities:edit": t.scoped(Activity, action="change"),
        "activities:session_add": t.scoped(Activity, action="change", **posted),
        "activities:session_delete": t.scoped(Activity, obj="activities.session", action="change", method="post",
                                              ok=(302,), kw=lambda m, o: {"pk": m.objects[(Session, _side(m, o))]
                                                                          .pk}),
        "activities:publish": t.scoped(Activity, action="change", method="post", ok=(302,)),
        "activities:allocate": t.scoped(Activity, action="allocate", method="post", ok=(302,)),
        "activities:staff_signup": t.scoped(Activity, page="activities.add_signup", method="post", ok=(302,)),
        "activities:participants": t.scoped(Activity),
        "activities:roll": t.scoped(Activity, obj="activities.session", page="activities.checkin_activity",
                                    action="checkin",
                                    kw=lambda m, o: {"pk": m.objects[(Session, _side(m, o))].pk}),
        "activities:brief": t.scoped(Activity),
        "activities:photo_add": t.scoped(Activity, action="change", method="post", ok=(302,)),
        "activities:photo": t.scoped(Activity, obj="activities.photo",
                                     kw=lambda m, o: {"pk": m.objects[("activities.photo_pk", _side(m, o))]}),
        "activities:export": t.scoped(Activity, action="export", ok=(200,)),
    }


def _side(m, activity) -> str:
    return "A1" if activity.grid_id == m.world.grids["A1"].pk else "B1"


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def build(m, t) -> None:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from activities import services
    from people.models import Person

    w = m.world
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["officer_a", "resident"])}
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=2), dt.time(14)))
    for side in ("A1", "B1"):
        a = Activity.objects.create(title=f"{side}亲子手工课", grid=w.grids[side], capacity=10, certificate_min=1,
                                    status="published")
        for i in range(2):
            s = services.add_session(None, a, starts_at=start + dt.timedelta(days=7 * i),
                                     ends_at=start + dt.timedelta(days=7 * i, hours=2), place=f"{side}活动室")
            if i == 0:
                m.objects[(Session, side)] = s
        person = m.objects[(Person, side)]
        signup = services.sign_up(a, person, [person], user=users["resident"] if side == "A1" else None,
                                  check_audience=False)
        m.objects[(Activity, side)] = a
        m.objects[(SignUp, side)] = signup
        m.objects[(Participant, side)] = signup.participants.get()
        m.objects[("activities.session", side)] = a
        m.objects[("activities.photo", side)] = a
        photo = services.add_photo(None, a, SimpleUploadedFile("p.png", _png(), content_type="image/png"), "合影")
        m.objects[("activities.photo_pk", side)] = photo.pk
    del Person
