"""The one write path of quality, and the worklist other apps (fieldwork) build on.

The contract other apps rely on:

* ``stamp_verified(user, method, *, house_ids=(), person_ids=(), at=None)`` — houses and people were verified now
  (or ``at``) by ``user`` through ``method`` (visit | feedback | import | api | form); their due dates move on.
* ``worklist(user, *, worker=None, on=None)`` -> ``list[WorkItem]`` building by building: stale homes, homes with
  open quality issues and key-group homes falling due within a week, in the user's scope (a grid worker: their
  grid) or only those assigned to ``worker``.
* ``assign(user, house_ids, worker)`` — a worker takes over these homes' visits (``worker=None`` unassigns).
* ``recompute()`` — the full, set-based recompute of freshness and quality (quality/engine.py).

``user=None`` means the system itself (imports, jobs, the demo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.querysets import natural
from core.scope import scope_for
from places.models import Building
from quality import engine
from quality.models import FreshnessPolicy, HouseStatus, IssueStatus, Method, PersonStatus, QualityIssue

__all__ = ["KEY_GROUP_LOOKAHEAD_DAYS", "REASON_LABELS", "WorkItem", "assign", "dismiss_issue", "recompute",
           "resolve_issue", "save_policy", "stamp_verified", "worklist"]

KEY_GROUP_LOOKAHEAD_DAYS = 7
REASON_LABELS = {
    "never": gettext_lazy("从未核实"),
    "stale": gettext_lazy("已过期"),
    "issues": gettext_lazy("有数据问题"),
    "key_group": gettext_lazy("重点人群即将到期"),
}


@dataclass
class WorkItem:
    """One home on a worker's list. ``reasons`` are codes of ``REASON_LABELS`` (never, stale, issues, key_group)."""

    house_id: int
    building_id: int
    reasons: list[str]
    due_at: dt.datetime | None
    address: str
    open_issues: int = 0
    assignee_id: int | None = None
    last_verified_at: dt.datetime | None = None
    extra: dict = field(default_factory=dict)

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASON_LABELS[r]) for r in self.reasons]


def _ids(values: Iterable) -> list[int]:
    return sorted({int(v) for v in values if v is not None})


@transaction.atomic
def stamp_verified(user, method: str, *, house_ids: Iterable[int] = (), person_ids: Iterable[int] = (),
                   at: dt.datetime | None = None) -> int:
    """Record that these houses and persons were verified at ``at`` (now) by ``user`` through ``method``.

    A house's due date becomes ``at + interval`` and it is no longer stale; a person's status gets the stamp.
    A later stamp never goes back in time (an older ``at`` does not overwrite a newer verification).
    The houses must be in the user's scope (``places.view_house``), else PermissionDenied and nothing is saved.
    Returns the number of houses and persons stamped. Audited once per call (action ``verify``).
    """
    if method not in Method.values:
        raise ValidationError({"method": _("核实方式“%(m)s”无效，应为：%(v)s")
                               % {"m": method, "v": "、".join(Method.values)}})
    at = at or timezone.now()
    hids, pids = _ids(house_ids), _ids(person_ids)
    if user is not None and hids:
        from places.models import House

        visible = set(House.objects.restrict(user, "view").filter(pk__in=hids).values_list("pk", flat=True))
        if len(visible) != len(hids):
            raise PermissionDenied(_("部分房屋不在您的管辖范围内，未记录核实"))
    if user is not None and pids:
        from people.models import Person

        visible = set(Person.objects.restrict(user, "view").filter(pk__in=pids).values_list("pk", flat=True))
        if len(visible) != len(pids):
            raise PermissionDenied(_("部分人员不在您的管辖范围内，未记录核实"))
    by = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    n = engine.stamp_houses(hids, at, method, by) if hids else 0
    n += engine.stamp_persons(pids, at, method, by) if pids else 0
    if n:
        audit.record("verify", user=user, object_type="places.house" if hids else "people.person",
                     object_id=str((hids or pids)[0]) if len(hids or pids) == 1 else f"{len(hids)}+{len(pids)}",
                     fields=["last_verified_at"], changes={"method": method, "houses": len(hids),
                                                           "persons": len(pids)})
    return n


def _worklist_rows(user, *, worker=None, on: dt.date | None = None, mine_or_unassigned=None):
    """The queryset behind ``worklist`` / ``worklist_count`` and the end of ``on``'s day and look-ahead."""
    from django.db.models import Q

    on = on or timezone.localdate()
    end_of_day = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))
    ahead = end_of_day + dt.timedelta(days=KEY_GROUP_LOOKAHEAD_DAYS)
    qs = HouseStatus.objects.restrict(user, "view")
    if worker is not None:
        qs = qs.filter(assignee=worker)
    if mine_or_unassigned is not None:
        qs = qs.filter(Q(assignee__isnull=True) | Q(assignee=mine_or_unassigned))
    qs = qs.filter(Q(last_verified_at__isnull=True) | Q(due_at__lt=end_of_day) | Q(open_issues__gt=0)
                   | Q(key_group=True, due_at__lt=ahead))
    return qs, end_of_day, ahead


def worklist_count(user, *, worker=None, on: dt.date | None = None, mine_or_unassigned=None) -> int:
    """How many homes ``worklist`` would list (one COUNT, no ordering or joins)."""
    qs, _end, _ahead = _worklist_rows(user, worker=worker, on=on, mine_or_unassigned=mine_or_unassigned)
    return qs.count()


def worklist(user, *, worker=None, on: dt.date | None = None, limit: int | None = None, offset: int = 0,
             mine_or_unassigned=None) -> list[WorkItem]:
    """Today's (or ``on``'s) homes to visit, building by building (compound, building number, unit, floor, room).

    A home is on the list when it was never verified, its due date has passed by the end of that day, it has open
    quality issues, or a key-group resident (a tag with a freshness policy) makes it fall due within
    ``KEY_GROUP_LOOKAHEAD_DAYS``. Scope: the homes the user may view (a grid worker: their grid); with ``worker``,
    only the homes assigned to that worker (still within the user's scope); with ``mine_or_unassigned``, only the
    homes assigned to that user or to nobody. ``offset`` / ``limit``: one page of the list, ordered in the database.
    """
    qs, end_of_day, ahead = _worklist_rows(user, worker=worker, on=on, mine_or_unassigned=mine_or_unassigned)
    skip = 0
    if limit is not None:
        # A page of a long list: sorting every due home of a big grid with its joins costs seconds on PostgreSQL,
        # so first find the buildings the page falls in (counts per building, buildings in their order), then
        # order only those buildings' homes. Same order as the one query: compound, building, unit, floor, room.
        counts = dict(qs.order_by().values_list("building_id").annotate(n=Count("house_id")))
        order = (Building.objects.filter(pk__in=list(counts)).order_by("compound__name", *natural("number"), "id")
                 .values_list("pk", flat=True))
        wanted, seen = [], 0
        for bid in order:
            n = counts[bid]
            if seen + n > offset and seen < offset + limit:
                if not wanted:
                    skip = offset - seen
                wanted.append(bid)
            seen += n
            if seen >= offset + limit:
                break
        qs = qs.filter(building_id__in=wanted)
    rows = (qs.order_by("house__building__compound__name", *natural("house__building__number"), "house__building_id",
                        "house__unit", "house__floor", *natural("house__room"))
            .values_list("house_id", "building_id", "last_verified_at", "due_at", "open_issues", "key_group",
                         "assignee_id", "house__unit", "house__room", "house__building__number",
                         "house__building__compound__name"))
    if limit is not None:
        rows = rows[skip:skip + limit]
    elif offset:
        rows = rows[offset:]
    items = []
    for hid, bid, last, due, issues, key, assignee, unit, room, number, compound in rows:
        reasons = []
        if last is None:
            reasons.append("never")
        elif due is not None and due < end_of_day:
            reasons.append("stale")
        if issues:
            reasons.append("issues")
        if key and last is not None and due is not None and end_of_day <= due < ahead:
            reasons.append("key_group")
        address = f"{compound}{number}幢{unit}单元{room}室" if unit else f"{compound}{number}幢{room}室"
        items.append(WorkItem(hid, bid, reasons, due, address, issues, assignee, last))
    return items


@transaction.atomic
def assign(user, house_ids: Iterable[int], worker) -> int:
    """Assign these homes to ``worker`` (or unassign with ``None``).

    The user needs ``quality.assign_housestatus`` on every house and the worker must be able to view them
    (a grid worker of that grid); else PermissionDenied / ValidationError and nothing changes. Audited.
    """
    hids = _ids(house_ids)
    if not hids:
        return 0
    engine.ensure_statuses(hids)
    if user is not None:
        allowed = HouseStatus.objects.restrict(user, "assign").filter(pk__in=hids).count()
        if allowed != len(hids):
            if HouseStatus.objects.restrict(user, "view").filter(pk__in=hids).count() != len(hids):
                raise PermissionDenied(_("部分房屋不在您的管辖范围内"))
            raise PermissionDenied(_("您没有分派房屋的权限"))
    if worker is not None:
        if HouseStatus.objects.restrict(worker, "view").filter(pk__in=hids).count() != len(hids):
            raise ValidationError({"worker": _("网格员“%(w)s”看不到其中部分房屋，不能分派给他")
                                   % {"w": worker.get_full_name() or worker.get_username()}})
    n = HouseStatus.objects.filter(pk__in=hids).update(assignee=worker, updated_at=timezone.now())
    audit.record("assign", user=user, object_type="quality.housestatus",
                 object_id=str(hids[0]) if len(hids) == 1 else f"{len(hids)}", fields=["assignee"],
                 changes={"assignee": worker.pk if worker is not None else None, "houses": len(hids)})
    return n


def recompute(*, full: bool = True) -> dict:
    """Recompute freshness (interval, due date, staleness) and every quality rule for all houses, set-based.

    With ``full=False`` only the houses marked ``needs_recompute`` (by the registry's signals) are refreshed.
    Returns figures (houses, stale, issues opened / resolved, seconds).
    """
    if full:
        return engine.recompute_all()
    return engine.recompute_dirty()


def _issue_for_action(user, issue_id: int) -> QualityIssue:
    issue = QualityIssue.objects.restrict(user, "view").filter(pk=issue_id).first()
    if issue is None:
        from django.http import Http404

        raise Http404
    if not QualityIssue.objects.restrict(user, "resolve").filter(pk=issue_id).exists():
        raise PermissionDenied(_("您没有处理数据质量问题的权限"))
    return issue


def _close(user, issue_id: int, status: str, reason: str, expected_version: int | None) -> QualityIssue:
    from core.services import bump_version

    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("请填写理由（至少2个字）")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("理由太长（最多300个字）")})
    with transaction.atomic():
        issue = _issue_for_action(user, issue_id)
        if issue.status != IssueStatus.OPEN:
            raise ValidationError({"status": _("该问题已处理，不能重复处理")})
        bump_version(issue, expected_version)
        issue.status, issue.reason = status, reason
        issue.resolved_by, issue.resolved_at = user, timezone.now()
        issue.save(update_fields=["status", "reason", "resolved_by", "resolved_at", "updated_at"])
        if issue.house_id:
            engine.count_open_issues([issue.house_id])
        audit.record("resolve" if status == IssueStatus.RESOLVED else "dismiss", issue, user=user,
                     fields=["status", "reason"], changes={"status": status, "rule": issue.rule})
    return issue


def resolve_issue(user, issue_id: int, reason: str, *, expected_version: int | None = None) -> QualityIssue:
    """Mark an open issue fixed. If the data still breaks the rule, the next recompute raises it again."""
    return _close(user, issue_id, IssueStatus.RESOLVED, reason, expected_version)


def dismiss_issue(user, issue_id: int, reason: str, *, expected_version: int | None = None) -> QualityIssue:
    """Dismiss an open issue as not a problem (e.g. a real 111-year-old): recompute never raises it again."""
    return _close(user, issue_id, IssueStatus.DISMISSED, reason, expected_version)


@transaction.atomic
def save_policy(user, *, interval_days: int, house_use: str = "", tag_code: str = "",
                policy: FreshnessPolicy | None = None, note: str = "") -> FreshnessPolicy:
    """Create or change a freshness policy (``quality.change_freshnesspolicy`` / ``add_freshnesspolicy``).

    The affected houses' intervals and due dates are recomputed at the next run (all houses are marked).
    """
    perm = "quality.change_freshnesspolicy" if policy is not None else "quality.add_freshnesspolicy"
    if user is not None and not scope_for(user).has(perm):
        raise PermissionDenied(_("您没有修改新鲜度策略的权限"))
    try:
        interval_days = int(interval_days)
    except (TypeError, ValueError):
        raise ValidationError({"interval_days": _("复核周期须是整数天数")}) from None
    if not 1 <= interval_days <= 3650:
        raise ValidationError({"interval_days": _("复核周期须在1到3650天之间")})
    p = policy or FreshnessPolicy()
    before = {"interval_days": p.interval_days, "house_use": p.house_use, "tag_code": p.tag_code}
    if policy is None:
        p.house_use, p.tag_code = house_use or "", tag_code or ""
    p.interval_days, p.note = interval_days, note or ""
    p.full_clean()
    p.save()
    audit.record("update" if policy is not None else "create", p, user=user, fields=["interval_days"],
                 changes={"before": before, "interval_days": interval_days})
    transaction.on_commit(engine.schedule_refresh_intervals)
    return p


def person_status(person_id: int) -> PersonStatus | None:
    return PersonStatus.objects.filter(pk=person_id).first()
