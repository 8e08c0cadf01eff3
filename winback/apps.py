from django.apps import AppConfig


class WinbackConfig(AppConfig):
    name = "winback"

    def ready(self) -> None:
        # Imported here: these modules use models, which load once the app registry is ready.
        from churnapp import hooks
        from winback import tasks

        # After a write the pages show, one refresh of their stored figures is queued once the transaction commits.
        hooks.register(hooks.WINBACK_PAGES_STALE, tasks.page_facts_enqueue)
