from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate


class ChurnappConfig(AppConfig):
    name = "churnapp"
    verbose_name = "churnapp"

    def ready(self) -> None:
        # Imported here: these modules use models, which load once the app registry is ready.
        from churnapp import money  # noqa: F401  (registers the CURRENCY system check)
        from churnapp.preferences import remember_language
        from churnapp.roles import ensure_role_groups

        user_logged_in.connect(remember_language, dispatch_uid="churnapp-remember-language")

        # Permissions are created app by app after migrate, so the role groups are rebuilt after each app's
        # (idempotent and cheap): the last app's pass sees every permission.
        post_migrate.connect(ensure_role_groups, dispatch_uid="churnapp-ensure-role-groups")
