"""Print what the automations did, per rule and per playbook (optionally after one cycle of the built-in rules)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from automations.reports import playbook_report, report_run_builtins, rule_report

EMAIL_STATUSES = ("queued", "sent", "suppressed", "failed")
ACTION_COLUMNS = ("tasks", "status_changes", "tags", "notifications", "enrolments")


class Command(BaseCommand):
    help = "Per rule: matches, executions and their effects; per playbook: enrolments and hold-outs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--run", action="store_true", help="Enable every built-in rule and run one evaluation cycle first."
        )

    def handle(self, *args, run: bool = False, **options):
        if run:
            cycle = report_run_builtins()
            self.stdout.write(
                f"Cycle: {cycle['rules']} rules evaluated, {cycle['fired']} fired, {cycle['ran']} executions run."
            )
        self.stdout.write("\nRules")
        for r in rule_report():
            emails = ", ".join(f"{s} {r.emails.get(s, 0)}" for s in EMAIL_STATUSES)
            effects = ", ".join(f"{c.replace('_', ' ')} {r.actions.get(c, 0)}" for c in ACTION_COLUMNS)
            self.stdout.write(
                f"- {r.key} ({'enabled' if r.enabled else 'disabled'}): matching now {r.matching}, "
                f"would fire now {r.would_fire}\n"
                f"    executions {r.executions}: succeeded {r.succeeded}, partial {r.partial}, failed {r.failed}, "
                f"pending {r.pending}; failed actions {r.actions_failed}\n"
                f"    {effects}; emails: {emails}"
            )
        self.stdout.write("\nPlaybooks")
        for p in playbook_report():
            self.stdout.write(
                f"- {p.key}: enrolments {p.total}: active {p.active}, completed {p.completed}, "
                f"stopped {p.stopped}, held out {p.held_out}"
            )
