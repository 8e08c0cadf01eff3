from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"

    def ready(self) -> None:
        from automations.tasks import rules_enqueue_for_accounts
        from churnapp import derived

        # A new ticket, survey answer, payment or attribute is evaluated by the rules at once (conditions read those
        # facts directly), and again once the account is rescored (conditions on the health score).
        derived.register(derived.FACTS_CHANGED, rules_enqueue_for_accounts)
        derived.register(derived.SCORES_CHANGED, rules_enqueue_for_accounts)
