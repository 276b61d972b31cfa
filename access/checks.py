"""System checks of the deployment (``manage.py check --deploy``).

``renfang.E001``: production mode refused while the demo's accounts still have their printed passwords
(``demo.accounts.demo_passwords_remain()``, when the demo app is installed).
``renfang.E002``: production without the session, OTP or denial middleware of this app.
``renfang.E004``: the audit table's append-only triggers missing from a database migrated past core 0003 (removed
by hand, or lost when a later migration rebuilds the table on SQLite).
``renfang.E003``: the Django admin site installed (Renfang has none: personal data is read only through scoped
views, and no superuser bypass exists).
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

__all__ = ["admin_site_absent", "audit_triggers_present", "demo_passwords_changed", "security_middleware_present"]

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


def installed_audit_triggers(connection) -> set[str]:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'core_auditevent'")
        elif connection.vendor == "postgresql":
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'core_auditevent'::regclass "
                        "AND NOT tgisinternal")
        else:
            return set()
        return {row[0] for row in cur.fetchall()}


@register(Tags.security, Tags.database, deploy=True)
def audit_triggers_present(app_configs=None, databases=None, **kwargs) -> list:
    from django.db import connection

    expected = {"sqlite": {"core_auditevent_no_update", "core_auditevent_no_delete"},
                "postgresql": {"core_auditevent_append_only", "core_auditevent_no_truncate"}}.get(connection.vendor)
    if not expected:
        return []
    from django.db.migrations.recorder import MigrationRecorder

    try:
        if ("core", "0003_audit_append_only") not in MigrationRecorder(connection).applied_migrations():
            return []  # not migrated yet: the migration installs them
        found = installed_audit_triggers(connection)
    except DatabaseError:
        return []  # not migrated yet
    missing = sorted(expected - found)
    if missing:
        return [Error(f"the audit table lacks its append-only triggers: {', '.join(missing)}",
                      hint="Re-create them: python manage.py shell -c 'from django.db import connection; "
                           "from core import db_guards; db_guards.install(connection)'", id="renfang.E004")]
    return []
