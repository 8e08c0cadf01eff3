from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConfigurationConfig(AppConfig):
    """Configuration as code: every configuration object over the REST API, and one bundle to export, plan and
    apply across instances (issue #20)."""

    name = "configuration"
    verbose_name = _("Configuration")
    default_auto_field = "django.db.models.BigAutoField"
