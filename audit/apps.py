from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: the capture reads the audited models, which load once the app registry is ready.
        from audit import capture, context

        capture.connect()
        context.connect_worker_signals()
