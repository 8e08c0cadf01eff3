from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Erasure and export of a contact's or an account's personal data (issue #21, data-subject requests)."""

    name = "privacy"
    verbose_name = _("Personal data")
    default_auto_field = "django.db.models.BigAutoField"
