from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self) -> None:
        # Imported here: these modules use models, which load once the app registry is ready.
        from churnapp import hooks
        from health.rescore import scores_mark, scores_mark_routine
        from health.rollups import rollups_mark
        from health.tasks import lab_run_enqueue, recompute_enqueue, repredict_enqueue, rescore_enqueue, rollups_enqueue

        # Every ingest path (tracking API, REST, imports, webhooks) marks the touched days stale in its own
        # transaction and queues their refresh after commit; the sweep refreshes marks whose task was lost.
        hooks.register(hooks.EVENTS_INGESTED, rollups_mark, in_transaction=True)
        hooks.register(hooks.EVENTS_INGESTED, rollups_enqueue)
        # A fact that feeds the health score marks its account in the same transaction; the rescoring is queued
        # after commit (and a sweep every 15 seconds rescores marks whose task was lost).
        hooks.register(hooks.FACTS_CHANGED, scores_mark, in_transaction=True)
        hooks.register(hooks.FACTS_CHANGED, rescore_enqueue)
        hooks.register(hooks.USAGE_CHANGED, scores_mark_routine, in_transaction=True)
        hooks.register(hooks.USAGE_CHANGED, rescore_enqueue)
        # A rescored account's churn probability follows, in its own task: the rules do not wait for it.
        hooks.register(hooks.SCORES_CHANGED, repredict_enqueue)
        # Work the health services queue for this app's workers.
        hooks.register(hooks.HEALTH_PROFILE_PUBLISHED, recompute_enqueue)
        hooks.register(hooks.CHURN_LAB_REQUESTED, lab_run_enqueue)
