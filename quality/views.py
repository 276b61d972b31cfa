"""Pages of quality: the freshness overview (per grid, community, worker; bar chart and 12-week trend), the stale
homes, the quality issues (resolve / dismiss with a reason, htmx) and the freshness policies.

Every read goes through ``restrict(user, action)``; every write through quality.services. A filter naming a
place outside the user's scope → 404; a page the user's roles do not open → 403.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core.querysets import natural
from core.scope import scope_for
from core.services import ConflictError
from core.views import PermissionView, is_htmx, require
from places.choices import HouseUse
from quality import scores, services
from quality.models import FreshnessPolicy, HouseStatus, IssueStatus, QualityIssue
from quality.rules import PILLARS, RULES

PAGE = 50



def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise Http404 from None


def _visible_grids(user):
    from places.models import Grid

    return Grid.objects.restrict(user, "view").select_related("community").order_by("community__name", "code",
                                                                                       "name")


def _place_filter(request, qs, *, issue: bool = False):
    """Apply ``?grid=`` / ``?community=`` / ``?street=``; a place outside the user's scope → 404."""
    from places.models import Community, Grid, Street

    chosen = {}
    for level, model in (("street", Street), ("community", Community), ("grid", Grid)):
        pid = _int(request.GET.get(level))
        if pid is None:
            continue
        if level == "grid":
            ok = model.objects.restrict(request.user, "view").filter(pk=pid).exists()
        else:
            # Streets and communities are visible to a grid worker as ancestors; filter only by places that hold
            # houses the user may see.
            ok = qs.filter(**{f"{level}_id": pid}).exists()
        if not ok:
            raise Http404
        qs = qs.filter(**{f"{level}_id": pid})
        chosen[level] = pid
    return qs, chosen


def _workers(user, grid_ids):
    from core.models import Grant

    ids = Grant.objects.filter(role__code="grid_worker", grid_id__in=list(grid_ids)).values_list("user_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username"))


def _person_names_visible(user) -> bool:
    ps = scope_for(user).places_for("people.view_person")
    return bool(ps) and not ps.aggregate_only


class QualityView(PermissionView):
    perm = "quality.view_housestatus"


class OverviewView(QualityView):
    """Freshness and score per grid and community of the user's scope, per worker, and the 12-week trend."""

    def get(self, request):
        user = request.user
        statuses = HouseStatus.objects.restrict(user, "view")
        issues = QualityIssue.objects.restrict(user, "view")
        grids = list(_visible_grids(user))
        grid_figs = scores.figures("grid", [g.pk for g in grids], statuses=statuses, issues=issues)
        grid_rows = [{"place": g, "f": grid_figs.get(g.pk)} for g in grids if g.pk in grid_figs]
        communities = {}
        for g in grids:
            communities.setdefault(g.community_id, g.community)
        com_figs = scores.figures("community", list(communities), statuses=statuses, issues=issues)
        com_rows = [{"place": c, "f": com_figs[c.pk]} for c in communities.values() if c.pk in com_figs]
        total = scores.figures("street", None, statuses=statuses, issues=issues)
        overall = _merge(total.values())
        worker_rows = (statuses.values("assignee_id", "assignee__username", "assignee__first_name",
                                       "assignee__last_name")
                       .annotate(houses=Count("house_id"), stale=Count("house_id", filter=Q(is_stale=True)),
                                 issues=Count("house_id", filter=Q(open_issues__gt=0)))
                       .order_by("assignee__username"))
        workers = []
        for w in worker_rows:
            if w["assignee_id"] is None:
                name = _("未分派")
            else:
                name = (f"{w['assignee__last_name'] or ''}{w['assignee__first_name'] or ''}"
                        or w["assignee__username"])
            workers.append({"id": w["assignee_id"], "name": name, "houses": w["houses"], "stale": w["stale"],
                            "fresh": w["houses"] - w["stale"], "issues": w["issues"],
                            "rate": (w["houses"] - w["stale"]) / w["houses"] if w["houses"] else 0})
        weekly = scores.trend("street", grid_ids=[g.pk for g in grids])
        trend = _merge_trend(weekly.values())
        chart = {
            "grids": [r["place"].name for r in grid_rows],
            "rates": [round(100 * r["f"]["rate"], 1) for r in grid_rows],
            "scores": [r["f"]["score"] for r in grid_rows],
            "weeks": sorted(trend),
            "trend": [round(100 * trend[k], 1) for k in sorted(trend)],
            "labels": {"rate": _("新鲜度(%)"), "score": _("质量得分"), "trend": _("新鲜度周趋势(%)")},
        }
        return render(request, "quality/overview.html", {
            "title": _("数据新鲜度与质量"), "grid_rows": grid_rows, "com_rows": com_rows, "workers": workers,
            "overall": overall, "chart": chart, "pillars": PILLARS,
        })


def _merge(figs) -> dict:
    out = {"houses": 0, "stale": 0, "fresh": 0, "open_issues": 0, "score": None, "rate": 0.0}
    weighted = 0.0
    for f in figs:
        for k in ("houses", "stale", "fresh", "open_issues"):
            out[k] += f[k]
        weighted += f["score"] * f["houses"]
    if out["houses"]:
        out["rate"] = out["fresh"] / out["houses"]
        out["score"] = round(weighted / out["houses"], 1)
    return out


def _merge_trend(series) -> dict:
    merged: dict[str, list[float]] = {}
    for s in series:
        for week, rate in s.items():
            merged.setdefault(week, []).append(rate)
    return {w: sum(v) / len(v) for w, v in merged.items()}


class StaleListView(QualityView):
    """Homes due for re-verification, building by building; filters grid / use / worker; assign (officers)."""

    def get(self, request):
        return self.render(request)

    def render(self, request, error: str = "", done: str = ""):
        user = request.user
        qs = HouseStatus.objects.restrict(user, "view").filter(is_stale=True)
        qs, chosen = _place_filter(request, qs)
        use = request.GET.get("use") or ""
        if use:
            if use not in HouseUse.values:
                raise Http404
            qs = qs.filter(house__use=use)
        worker = request.GET.get("worker") or ""
        grids = list(_visible_grids(user))
        workers = _workers(user, [g.pk for g in grids])
        if worker == "none":
            qs = qs.filter(assignee__isnull=True)
        elif worker:
            wid = _int(worker)
            if wid not in {w.pk for w in workers}:
                raise Http404
            qs = qs.filter(assignee_id=wid)
        qs = (qs.select_related("house__building__compound", "assignee", "last_verified_by")
              .order_by("house__building__compound__name", *natural("house__building__number"), "house__building_id",
                        "house__unit", "house__floor", *natural("house__room")))
        page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
        query = {k: v for k, v in request.GET.items() if k != "page" and v}
        return render(request, "quality/stale.html", {
            "title": _("待复核房屋"), "page": page, "grids": grids, "uses": HouseUse.choices, "workers": workers,
            "chosen": chosen, "use": use, "worker": worker, "querystring": urlencode(query),
            "can_assign": scope_for(user).has("quality.assign_housestatus"), "error": error, "done": done,
        })

    def post(self, request):
        """Assign the checked homes to a worker (community officer)."""
        require(request.user, "quality.assign_housestatus")
        ids = [_int(v) for v in request.POST.getlist("house")]
        wid = request.POST.get("assignee") or ""
        worker = None
        if wid and wid != "none":
            worker = get_user_model().objects.filter(pk=_int(wid), is_active=True).first()
            if worker is None:
                raise Http404
        if not ids:
            return self.render(request, error=_("请先勾选要分派的房屋"))
        try:
            n = services.assign(request.user, ids, worker)
        except ValidationError as exc:
            return self.render(request, error="；".join(m for msgs in exc.message_dict.values() for m in msgs))
        return self.render(request, done=_("已分派 %(n)d 户") % {"n": n})


class IssueListView(QualityView):
    perm = "quality.view_qualityissue"

    def get(self, request):
        user = request.user
        qs = QualityIssue.objects.restrict(user, "view")
        qs, chosen = _place_filter(request, qs, issue=True)
        status = request.GET.get("status") or IssueStatus.OPEN
        if status not in IssueStatus.values and status != "all":
            raise Http404
        if status != "all":
            qs = qs.filter(status=status)
        rule = request.GET.get("rule") or ""
        if rule:
            if rule not in RULES:
                raise Http404
            qs = qs.filter(rule=rule)
        counts = dict(QualityIssue.objects.restrict(user, "view").filter(status=IssueStatus.OPEN)
                      .values_list("rule").annotate(n=Count("id")).values_list("rule", "n"))
        qs = qs.select_related("house__building__compound", "person", "resolved_by").order_by(
            "building_id", "house_id", "rule", "id")
        page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
        query = {k: v for k, v in request.GET.items() if k != "page" and v}
        return render(request, "quality/issues.html", {
            "title": _("数据质量问题"), "page": page, "rules": RULES, "rule": rule, "status": status,
            "statuses": IssueStatus.choices, "grids": _visible_grids(user), "chosen": chosen, "counts": counts,
            "rule_options": [(c, r, counts.get(c, 0)) for c, r in RULES.items()],
            "querystring": urlencode(query), "can_resolve": scope_for(user).has("quality.resolve_qualityissue"),
            "show_names": _person_names_visible(user), "pillars": PILLARS,
        })


class IssueCloseView(QualityView):
    """POST action=resolve|dismiss, reason, version → the row again (htmx) or back to the list."""

    perm = "quality.view_qualityissue"

    def post(self, request, pk: int):
        action = request.POST.get("action")
        if action not in ("resolve", "dismiss"):
            raise Http404
        fn = services.resolve_issue if action == "resolve" else services.dismiss_issue
        error = ""
        try:
            issue = fn(request.user, pk, request.POST.get("reason", ""),
                       expected_version=_int(request.POST.get("version")))
        except ValidationError as exc:
            error = "；".join(m for msgs in exc.message_dict.values() for m in msgs)
        except ConflictError as exc:
            error = str(exc)
        if error:
            issue = QualityIssue.objects.restrict(request.user, "view").get(pk=pk)
        if not is_htmx(request):
            if error:
                return HttpResponse(error, status=400 if "版" not in error else 409)
            return redirect(request.POST.get("next") or reverse("quality:issues"))
        response = render(request, "quality/_issue_row.html", {
            "i": issue, "rules": RULES, "can_resolve": scope_for(request.user).has("quality.resolve_qualityissue"),
            "show_names": _person_names_visible(request.user), "error": error})
        if error:
            response.status_code = 200  # htmx swaps the row with the message in place
        return response


class PolicyListView(QualityView):
    perm = "quality.view_freshnesspolicy"

    def get(self, request, error: str = "", form: dict | None = None):
        from people.models import Tag

        scope = scope_for(request.user)
        tags = {t.code: t.name for t in Tag.objects.all()}
        policies = list(FreshnessPolicy.objects.all())
        for p in policies:
            p.tag_name = tags.get(p.tag_code, p.tag_code)
        return render(request, "quality/policies.html", {
            "title": _("新鲜度策略"), "policies": policies, "tag_list": Tag.objects.order_by("code"),
            "uses": HouseUse.choices, "can_change": scope.has("quality.change_freshnesspolicy"),
            "can_add": scope.has("quality.add_freshnesspolicy"), "error": error, "form": form or {},
        })

    def post(self, request):
        pk = _int(request.POST.get("policy"))
        policy = None
        if pk is not None:
            policy = FreshnessPolicy.objects.filter(pk=pk).first()
            if policy is None:
                raise Http404
        data = {"interval_days": request.POST.get("interval_days"), "note": request.POST.get("note", "")}
        if policy is None:
            kind = request.POST.get("kind")
            data["house_use"] = request.POST.get("house_use", "") if kind == "use" else ""
            data["tag_code"] = request.POST.get("tag_code", "") if kind == "tag" else ""
        try:
            services.save_policy(request.user, policy=policy, **data)
        except ValidationError as exc:
            msgs = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            text = "；".join(m for ms in msgs.values() for m in ms)
            return self.get(request, error=text, form=request.POST)
        return redirect("quality:policies")
