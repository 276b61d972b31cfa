"""Background jobs of fieldwork (django-tasks), run by ``manage.py worker``; scheduled in apps.py.

* ``daily_task_lists``: each morning every grid worker gets an inbox entry with how many homes of their grids are
  due or overdue for a visit (quality's HouseStatus), linking to the workbench's today list.
* ``overdue_reviews``: community officers get an entry when change requests of their community have waited more
  than three days for review.

Both are set-based (one GROUP BY, one grants query) and idempotent per day (notify's dedupe key).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from core.models import Grant
from fieldwork.metrics import OVERDUE_REVIEW_DAYS
from fieldwork.models import ChangeRequest, ChangeStatus

__all__ = ["daily_task_lists", "overdue_reviews"]


def _holders(role_code: str, level: str) -> dict[int, set]:
    """{place id: {user}} of the live grants of one role at one level."""
    now = timezone.now()
    grants = (Grant.objects.filter(role__code=role_code, role__is_active=True, level=level, user__is_active=True)
              .exclude(expires_at__lt=now).exclude(starts_at__gt=now).select_related("user"))
    out: dict[int, set] = defaultdict(set)
    for g in grants:
        place = g.grid_id if level == "grid" else g.community_id
        if place is not None:
            out[place].add(g.user)
    return out


@task()
def daily_task_lists() -> dict:
    from notify.services import notify

    try:
        from quality.models import HouseStatus
    except ImportError:
        return {"workers": 0}
    today = timezone.localdate()
    end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    rows = (HouseStatus.objects.filter(Q(due_at__lt=end) | Q(is_stale=True)).values("grid_id")
            .annotate(due=Count("pk"), overdue=Count("pk", filter=Q(is_stale=True))).order_by())
    by_grid = {r["grid_id"]: r for r in rows}
    sent = 0
    url = reverse("fieldwork:today")
    for grid_id, users in _holders("grid_worker", "grid").items():
        row = by_grid.get(grid_id)
        if not row or not row["due"]:
            continue
        for user in users:
            notify([user], title=_("今日走访：%(due)d 户到期，其中 %(overdue)d 户已逾期")
                   % {"due": row["due"], "overdue": row["overdue"]},
                   body=_("请按楼栋顺序走访，确认住户信息"), url=url, kind="reminder",
                   dedupe_key=f"fieldwork.today:{user.pk}:{today.isoformat()}:{grid_id}")
            sent += 1
    return {"workers": sent}


@task()
def overdue_reviews() -> dict:
    from notify.services import notify

    limit = timezone.now() - dt.timedelta(days=OVERDUE_REVIEW_DAYS)
    rows = (ChangeRequest.objects.filter(status=ChangeStatus.PENDING, created_at__lt=limit)
            .values("community_id").annotate(n=Count("id")).order_by())
    officers = _holders("community_officer", "community")
    today = timezone.localdate().isoformat()
    url = reverse("fieldwork:review")
    sent = 0
    for row in rows:
        for user in officers.get(row["community_id"], ()):
            title = _("%(n)d 条变更申请超过%(days)d天未审核") % {"n": row["n"], "days": OVERDUE_REVIEW_DAYS}
            notify([user], title=title,
                   body=_("请尽快审核网格员和居民提交的变更"), url=url, kind="reminder",
                   dedupe_key=f"fieldwork.reviews:{user.pk}:{today}:{row['community_id']}")
            sent += 1
    return {"officers": sent}
