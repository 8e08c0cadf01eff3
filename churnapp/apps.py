from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ChurnappConfig(AppConfig):
    name = "churnapp"
    verbose_name = "churnapp"

    def ready(self) -> None:
        from churnapp.roles import ensure_role_groups

        # Permissions exist only after migrate has run, so the role groups are (re)built then.
        post_migrate.connect(ensure_role_groups, sender=self, dispatch_uid="churnapp-ensure-role-groups")
