from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Imported here: these modules use models, which load once the app registry is ready.
        from accounts import tasks
        from accounts.imports import tasks as import_tasks
        from accounts.replays import upserted_replay_hook
        from churnapp import hooks

        # Writing accounts or contacts releases what waited for them, in the writer's transaction (the replays
        # write through the upsert: a hook, not an import, keeps that from being a circle of modules).
        hooks.register(hooks.ACCOUNTS_UPSERTED, upserted_replay_hook, in_transaction=True)
        hooks.register(hooks.IMPORT_QUEUED, import_tasks.import_enqueue)
        hooks.register(hooks.BULK_EDIT_QUEUED, tasks.bulk_edit_enqueue)
