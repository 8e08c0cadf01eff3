from functools import partial

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        # Imported here: these modules use models, which load once the app registry is ready.
        from churnapp import hooks
        from messaging import tasks, webhooks

        # Domain events of the lower apps become webhook deliveries in the writer's transaction; writers ask
        # `hooks.wanted(event)` first, so no payload is built when no active endpoint subscribes.
        for event in hooks.DOMAIN_EVENTS:
            hooks.register(
                event,
                webhooks.domain_event_hook(event),
                in_transaction=True,
                wants=partial(webhooks.webhook_subscribed, event),
            )
        # What the services queued is sent by the tasks once the transaction commits.
        hooks.register(hooks.EMAILS_QUEUED, tasks.emails_enqueue)
        hooks.register(hooks.WEBHOOKS_QUEUED, tasks.deliveries_enqueue)
        hooks.register(hooks.SLACK_QUEUED, tasks.slack_enqueue)
