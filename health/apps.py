from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self) -> None:
        from churnapp import derived
        from health.rollups import rollups_mark
        from health.tasks import rollups_enqueue

        # Every ingest path (tracking API, REST, imports, webhooks) marks the touched days stale in its own
        # transaction and queues their refresh after commit; the sweep refreshes marks whose task was lost.
        derived.register(derived.EVENTS_INGESTED, rollups_mark, in_transaction=True)
        derived.register(derived.EVENTS_INGESTED, rollups_enqueue)
