from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"

    def ready(self) -> None:
        from automations.tasks import rules_enqueue_for_accounts
        from churnapp import derived

        # Accounts whose health was just rescored are evaluated by the rules at once, not at the next cycle.
        derived.register(derived.SCORES_CHANGED, rules_enqueue_for_accounts)
