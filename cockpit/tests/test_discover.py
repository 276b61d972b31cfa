"""One way onto the boards: each app's figures, panels and layers live in its ``<app>/cockpit.py`` ``register()``,
which the cockpit calls when it starts; no app registers from its apps.py."""

from pathlib import Path

from django.apps import apps
from django.conf import settings

from cockpit import registry


def _our_apps():
    root = Path(settings.BASE_DIR).resolve()
    return [c for c in apps.get_app_configs() if Path(c.path).resolve().parent == root]


def test_every_app_with_a_cockpit_module_is_on_the_boards():
    reg = registry._REG
    keys = set(reg.metrics) | set(reg.panels) | set(reg.layers) | set(reg.house_states)
    with_module = [c.name for c in _our_apps() if (Path(c.path) / "cockpit.py").exists()]
    assert {"cases", "circle", "fieldwork", "quality", "resources"} <= set(with_module)
    for name in with_module:
        assert any(k.startswith(name + ".") for k in keys), f"{name}/cockpit.py registered nothing"


def test_no_app_registers_on_the_boards_from_elsewhere_than_its_cockpit_module():
    offenders = []
    for config in _our_apps():
        if config.name == "cockpit":
            continue
        for path in Path(config.path).rglob("*.py"):
            if "tests" in path.parts or path.name == "cockpit.py" or "migrations" in path.parts:
                continue
            if "cockpit.registry import register" in path.read_text(encoding="utf-8"):
                offenders.append(str(path.relative_to(settings.BASE_DIR)))
    assert offenders == [], "move these registrations into <app>/cockpit.py register()"


def test_the_map_opens_coloured_by_the_registrys_own_figure_whatever_the_modules_add():
    from cockpit.board import map_figures

    figures = [f["key"] for f in map_figures()]
    assert figures[0].startswith("cockpit."), figures
    assert any(not k.startswith("cockpit.") for k in figures), "the modules' figures are offered too"
