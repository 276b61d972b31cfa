"""Background jobs of quality (registered as periodic jobs in quality/apps.py; run by ``manage.py worker``)."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

log = logging.getLogger("renfang.quality")


@task()
def refresh_dirty() -> dict:
    """The incremental run: houses marked by registry changes and houses without a status yet."""
    from quality import engine

    return engine.recompute_dirty()


@task()
def recompute_all() -> dict:
    """The full set-based recompute of freshness and every quality rule."""
    from quality import engine

    return engine.recompute_all()


@task()
def weekly_snapshot() -> int:
    """This week's GridSnapshot rows (re-taken daily during the week, so the last figure of the week stays)."""
    from quality import scores

    return scores.take_snapshot()


@task()
def overdue_reminders() -> int:
    """Tell each assigned worker how many of their homes are overdue (one inbox entry per worker per day)."""
    try:
        from notify.services import notify
    except ImportError:  # the notify app is not installed in this deployment
        log.info("quality: notify is not available; no reminders sent")
        return 0
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q
    from django.urls import reverse

    from quality.models import HouseStatus

    today = timezone.localdate()
    counts = (HouseStatus.objects.filter(assignee__isnull=False).values("assignee_id")
              .annotate(stale=Count("house_id", filter=Q(is_stale=True))).filter(stale__gt=0))
    users = get_user_model().objects.in_bulk([c["assignee_id"] for c in counts])
    sent = 0
    for c in counts:
        user = users.get(c["assignee_id"])
        if user is None or not user.is_active:
            continue
        notify([user], title=_("您有%(n)d户逾期未走访") % {"n": c["stale"]},
               body=_("请在今日走访清单中按楼栋依次核实。"), url=reverse("quality:stale"), kind="reminder",
               dedupe_key=f"quality.overdue:{user.pk}:{today.isoformat()}")
        sent += 1
    return sent
