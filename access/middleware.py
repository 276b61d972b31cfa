"""Session policy, the second factor, and the audit of denials.

``SessionPolicyMiddleware``: 30 minutes idle, 12 hours absolute (security.md). The times are kept in the
session on the server, so an old cookie replayed later is refused as well; the expired session is deleted.

``SecondFactorMiddleware``: a user holding a role in ``core.scope.OTP_REQUIRED_ROLES`` (command centre,
system admin, security admin), or anyone who enrolled a TOTP device, is sent to the OTP step for every
page until the session is verified; without a device they are sent to enrolment first.

``DeniedAuditMiddleware``: every 403 and every 404 a view returns (a scoped lookup that found nothing, a
permission refused) is recorded as ``denied``, for the UI and the API alike.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from core import audit
from core.scope import OTP_REQUIRED_ROLES, scope_for

__all__ = ["DeniedAuditMiddleware", "SecondFactorMiddleware", "SessionPolicyMiddleware", "otp_required"]

LOGIN_AT = "renfang_login_at"
SEEN_AT = "renfang_seen_at"


class SessionPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = timezone.now().timestamp()
            started = request.session.get(LOGIN_AT, now)
            last = request.session.get(SEEN_AT, now)
            if now - last > settings.RENFANG_SESSION_IDLE_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)  # flushes: the session row is deleted on the server
            else:
                if LOGIN_AT not in request.session:
                    request.session[LOGIN_AT] = started
                if now - last > 30 or SEEN_AT not in request.session:  # no session write on every request
                    request.session[SEEN_AT] = now
        return self.get_response(request)


def otp_required(user) -> bool:
    """Whether ``user`` must pass the second factor: an enforced role, or a TOTP device they enrolled."""
    cached = getattr(user, "_renfang_otp_required", None)
    if cached is None:
        from django_otp import user_has_device

        cached = bool(OTP_REQUIRED_ROLES & set(scope_for(user).roles)) or user_has_device(user, confirmed=True)
        try:
            user._renfang_otp_required = cached
        except AttributeError:
            pass
    return cached


_OTP_EXEMPT_NAMES = {"login", "logout", "otp", "otp_setup", "otp_qr"}


class SecondFactorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not getattr(user, "is_verified", lambda: False)()
                and not self._exempt(request) and otp_required(user)):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "second factor required"}, status=403)
            if request.headers.get("HX-Request"):
                # A fragment asked for by the page (the inbox badge): htmx swaps nothing on a 403, whereas a
                # redirect would put the second-factor page inside the fragment.
                return HttpResponse(status=403)
            from django_otp import user_has_device

            name = "access:otp" if user_has_device(user, confirmed=True) else "access:otp_setup"
            return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(request) -> bool:
        path = request.path
        if path.startswith(settings.STATIC_URL) or path.startswith("/i18n/"):
            return True
        for name in _OTP_EXEMPT_NAMES:
            if path == reverse(f"access:{name}"):
                return True
        return False


class DeniedAuditMiddleware:
    """Record ``denied`` for every 403/404 answered by a resolved view (UI and API)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if response.status_code in (403, 404) and match is not None:
            kwargs = {k: str(v) for k, v in (match.kwargs or {}).items()}
            audit.record("denied", request=request, object_type=match.view_name[:64],
                         object_id=",".join(f"{k}={v}" for k, v in sorted(kwargs.items()))[:64],
                         result=str(response.status_code), fields=[request.method])
        return response
