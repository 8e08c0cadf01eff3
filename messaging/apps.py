from functools import partial

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        # Imported here: these modules use models, which load once the app registry is ready.
        from churnapp import derived
        from messaging import tasks, webhooks

        # Domain events of the lower apps become webhook deliveries in the writer's transaction; writers ask
        # `derived.wanted(event)` first, so no payload is built when no active endpoint subscribes.
        for event in derived.DOMAIN_EVENTS:
            derived.register(
                event,
                webhooks.domain_event_hook(event),
                in_transaction=True,
                wants=partial(webhooks.webhook_subscribed, event),
            )
        # What the services queued is sent by the tasks once the transaction commits.
        derived.register(derived.EMAILS_QUEUED, tasks.emails_enqueue)
        derived.register(derived.WEBHOOKS_QUEUED, tasks.deliveries_enqueue)
        derived.register(derived.SLACK_QUEUED, tasks.slack_enqueue)
