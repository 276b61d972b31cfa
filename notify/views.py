"""The inbox: a user's own notifications, mark read, and the unread badge of the top bar (htmx)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from notify import services
from notify.models import Notification


@login_required
@require_GET
def inbox(request):
    qs = Notification.objects.for_user(request.user)
    show = request.GET.get("show", "")
    if show == "unread":
        qs = qs.unread()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "notify/inbox.html", {
        "title": _("通知"), "page": page, "show": show, "unread": services.unread_count(request.user)})


@login_required
@require_POST
def mark_read(request):
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    if request.POST.get("all"):
        services.mark_all_read(request.user)
    else:
        services.mark_read(request.user, ids)
    if request.headers.get("HX-Request"):
        return badge(request)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("notify:inbox")
    return HttpResponseRedirect(target)


@login_required
@require_POST
def open_one(request, pk: int):
    """Mark one entry read and follow its link (only the user's own entries; others are 404)."""
    n = Notification.objects.for_user(request.user).filter(pk=pk).first()
    if n is None:
        raise Http404
    services.mark_read(request.user, [n.pk])
    target = n.url if n.url and url_has_allowed_host_and_scheme(
        n.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()) else reverse("notify:inbox")
    return HttpResponseRedirect(target)


@require_GET
def badge(request):
    count = services.unread_count(request.user) if request.user.is_authenticated else 0
    return render(request, "notify/_badge.html", {"notify_unread": count})
