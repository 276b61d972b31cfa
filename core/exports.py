"""Which lists can be exported, and where: apps register an export address for a model's list (core knows no app).

The list page (templates/core/object_list.html) shows an export button when its model has one and the user
holds the permission; the button carries the list's current filters (static/js/renfang.js keeps them in step
with the filter form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Export", "export_for", "register"]


@dataclass(frozen=True)
class Export:
    url: Callable[[], str]  # the export view's address with the list's kind (reversed late)
    perm: str


_EXPORTS: dict[str, Export] = {}


def register(model_name: str, url: Callable[[], str], perm: str) -> None:
    _EXPORTS[model_name] = Export(url, perm)


def export_for(model_name: str) -> Export | None:
    return _EXPORTS.get(model_name)
