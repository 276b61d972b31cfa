from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.schedule import register_periodic

        # Audit rows past the retention period (never younger than 180 days), nightly.
        register_periodic("core.purge_audit", "core.tasks.purge_audit", daily_at="03:10")
