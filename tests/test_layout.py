"""The house's shape, checked: every app's tests are collected, and every installed app of ours has some."""

from __future__ import annotations

import configparser
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def _testpaths() -> set[str]:
    ini = configparser.ConfigParser()
    ini.read(ROOT / "pytest.ini")
    return set(ini["pytest"]["testpaths"].split())


def _our_apps() -> list[str]:
    return sorted(c.path and Path(c.path).name for c in apps.get_app_configs()
                  if Path(c.path).resolve().parent == ROOT)


def test_every_folder_holding_tests_is_in_the_testpaths_pytest_collects():
    """Forgetting an app in pytest.ini's testpaths drops its tests silently: `make test` would pass without them."""
    holding = {p.relative_to(ROOT).parts[0] for p in ROOT.glob("*/**/test_*.py")
               if p.relative_to(ROOT).parts[0] not in (".venv", "frontend", "var", "node_modules", "bench")}
    missing = sorted(holding - _testpaths())
    assert not missing, f"add to pytest.ini testpaths: {' '.join(missing)}"


def test_every_app_of_ours_has_tests():
    """An app without a test is not done (access's and core's are in tests/)."""
    in_tests_folder = {"access", "core", "people", "places"}
    without = [name for name in _our_apps() if name not in in_tests_folder
               and not list((ROOT / name).glob("**/test_*.py"))]
    assert not without, without


def test_the_check_itself_sees_the_apps():
    assert {"cases", "resources", "places"} <= set(_our_apps())
    assert "resources" in _testpaths()
