from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"

    def ready(self) -> None:
        # Imported here: these modules use models, which load once the app registry is ready.
        from automations import playbook_actions, tasks
        from churnapp import hooks

        # The action that needs the playbook engine joins the registry of actions the engine runs.
        playbook_actions.register()
        # A new ticket, survey answer, payment or attribute is evaluated by the rules at once (conditions read those
        # facts directly), and again once the account is rescored (conditions on the health score).
        hooks.register(hooks.FACTS_CHANGED, tasks.rules_enqueue_for_accounts)
        hooks.register(hooks.SCORES_CHANGED, tasks.rules_enqueue_for_accounts)
        # Enrolments whose step is due now are advanced by a worker once the enrolling transaction commits.
        hooks.register(hooks.ENROLMENTS_DUE, tasks.enrolments_enqueue)
