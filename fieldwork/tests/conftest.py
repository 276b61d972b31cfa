"""Fixtures of the fieldwork tests: the shared ``world`` (conftest.py) plus helpers to submit visits."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(autouse=True)
def _immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = str(tmp_path / "media")


def new_id() -> str:
    return str(uuid.uuid4())


def fresh(user):
    """The same user without a cached scope (as a new request would load them)."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def fw(world):
    """The world with quality's freshness computed (every home has its HouseStatus, all due: never verified)."""
    from quality.services import recompute

    recompute()
    return world
