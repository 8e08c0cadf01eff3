from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self) -> None:
        from churnapp import derived
        from health.tasks import rollups_enqueue

        # Every ingest path (tracking API, REST, imports, webhooks) refreshes the touched days' rollups.
        derived.register(derived.EVENTS_INGESTED, rollups_enqueue)
