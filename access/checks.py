"""System checks of the deployment (``manage.py check --deploy``).

``renfang.E001``: production mode refused while the demo's accounts still have their printed passwords
(``demo.accounts.demo_passwords_remain()``, when the demo app is installed).
``renfang.E002``: production without the session, OTP or denial middleware of this app.
``renfang.E003``: the Django admin site installed (Renfang has none: personal data is read only through scoped
views, and no superuser bypass exists).
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

__all__ = ["admin_site_absent", "demo_passwords_changed", "security_middleware_present"]

REQUIRED_MIDDLEWARE = ["access.middleware.SessionPolicyMiddleware", "access.middleware.SecondFactorMiddleware",
                       "access.middleware.DeniedAuditMiddleware", "core.middleware.SecurityHeadersMiddleware",
                       "django_otp.middleware.OTPMiddleware"]


@register(Tags.security, deploy=True)
def demo_passwords_changed(app_configs=None, **kwargs) -> list:
    if not getattr(settings, "PRODUCTION", False) or not apps.is_installed("demo"):
        return []
    try:
        from demo.accounts import demo_passwords_remain
    except ImportError:
        return []
    try:
        remain = demo_passwords_remain()
    except DatabaseError:
        return []  # no tables yet: no accounts, demo or otherwise
    if remain:
        return [Error("演示账号仍在使用公开的演示密码，生产模式拒绝运行 / demo accounts keep their demo passwords",
                      hint="Change or deactivate every demo account (manage.py changepassword <name>) "
                           "before running with RENFANG_PRODUCTION=1.", id="renfang.E001")]
    return []


@register(Tags.security, deploy=True)
def security_middleware_present(app_configs=None, **kwargs) -> list:
    missing = [m for m in REQUIRED_MIDDLEWARE if m not in settings.MIDDLEWARE]
    return [Error(f"missing security middleware {m}", id="renfang.E002") for m in missing]


@register(Tags.security)
def admin_site_absent(app_configs=None, **kwargs) -> list:
    if apps.is_installed("django.contrib.admin"):
        return [Error("django.contrib.admin must not be installed: it would read personal data without scope",
                      id="renfang.E003")]
    return []
