from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self) -> None:
        # Imported here: tasks use models, which load once the app registry is ready.
        from churnapp import hooks
        from dashboards import tasks

        hooks.register(hooks.EXCHANGE_RATES_CHANGED, tasks.revalue_enqueue)
