from django.core.management.base import BaseCommand

from accounts.services.snapshots import account_refresh_snapshots


class Command(BaseCommand):
    help = "Recompute every account's cached MRR, seats, renewal date and subscription status now."

    def handle(self, *args, **options):
        result = account_refresh_snapshots()
        self.stdout.write(
            f"Refreshed {result['accounts']} accounts ({result['churned']} churned, {result['won_back']} won back)."
        )
