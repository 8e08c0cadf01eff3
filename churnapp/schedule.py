"""The beat schedule: every periodic job of the platform, in one place."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab
from django.conf import settings

from churnapp.queues import Queue

EXPIRES_AFTER_PERIODS = 1.5


def entry(
    task: str, schedule, *, queue: Queue, period: float | None = None, expires: float | None = None, args=None
) -> dict:
    """One beat entry on `queue`. A run still waiting in the queue 1.5 periods after beat published it expires (the
    next one is due by then) unless `expires` says otherwise; `period` (seconds) is given for a crontab."""
    if expires is None:
        seconds = (
            period if period is not None else schedule.total_seconds() if isinstance(schedule, timedelta) else schedule
        )
        expires = seconds * EXPIRES_AFTER_PERIODS
    options = {"queue": queue.value, "expires": expires}
    return {"task": task, "schedule": schedule, "options": options, **({"args": args} if args else {})}


BEAT_SCHEDULE = {
    # Keep each account's cached MRR, seats, renewal date and subscription status in step with its
    # subscriptions (a subscription that ended yesterday churns the account today).
    "accounts-refresh-snapshots": entry(
        "accounts.tasks.refresh_account_snapshots",
        timedelta(seconds=settings.ACCOUNT_SNAPSHOT_INTERVAL),
        queue=Queue.SCORING,
    ),
    # Nightly full recompute of every account's usage metrics and health snapshot (set-based), which also
    # caches score, band and 30-day trend on Account for the lists.
    "accounts-recover-stale-imports": entry(
        "accounts.imports.tasks.recover_stale_imports", timedelta(minutes=5), queue=Queue.INGEST
    ),
    # Bulk edits from the accounts list whose message or worker was lost.
    "accounts-recover-stale-bulk-edits": entry(
        "accounts.tasks.recover_stale_bulk_edits", timedelta(minutes=5), queue=Queue.DEFAULT
    ),
    # Usage rollups whose refresh task was lost (broker outage, killed worker): their stale marks outlive it.
    "health-sweep-rollup-marks": entry(
        "health.tasks.sweep_rollup_marks", timedelta(seconds=60), queue=Queue.SCORING, expires=90
    ),
    # Health of the accounts whose facts changed, for marks whose queued rescoring was lost.
    "health-rescore-marked": entry(
        "health.tasks.rescore_accounts", timedelta(seconds=15), queue=Queue.SCORING, expires=15
    ),
    "health-recompute-nightly": entry(
        "health.tasks.recompute_health", crontab(hour=2, minute=15), queue=Queue.SCORING, period=24 * 60 * 60
    ),
    # Recovery sweep of the email outbox: re-send messages whose send task was lost (broker outage, killed worker).
    "messaging-requeue-stale-emails": entry(
        "messaging.tasks.requeue_stale_emails", timedelta(minutes=5), queue=Queue.EMAIL
    ),
    # Trigger rules: one evaluation cycle of every enabled rule (set-based), then the actions of what fired.
    "automations-evaluate-rules": entry(
        "automations.tasks.evaluate_rules", timedelta(seconds=settings.AUTOMATIONS_RULES_INTERVAL), queue=Queue.DEFAULT
    ),
    # Rules again for the accounts with new facts in the last minutes, so a rule fires within a minute of a fact.
    "automations-evaluate-rules-recent": entry(
        "automations.tasks.evaluate_rules_recent", timedelta(seconds=60), queue=Queue.DEFAULT, expires=90
    ),
    # Time-based conditions ("no login for 10 days"): the accounts whose threshold was crossed since the last tick.
    "automations-evaluate-crossings": entry(
        "automations.tasks.evaluate_crossings", timedelta(seconds=15), queue=Queue.DEFAULT, expires=30
    ),
    # Playbook enrolments whose wait is over run their next steps.
    "automations-advance-playbooks": entry(
        "automations.tasks.advance_playbooks", timedelta(minutes=5), queue=Queue.DEFAULT
    ),
    # Journeys: apply to new accounts, mark reached and missed milestones (missed ones feed the rules).
    "automations-refresh-journeys": entry(
        "automations.tasks.refresh_journeys", timedelta(minutes=15), queue=Queue.SCORING
    ),
    # Daily task digest with overdue reminders, before the working day.
    "messaging-task-digest": entry(
        "messaging.tasks.send_task_digests", crontab(hour=6, minute=30), queue=Queue.EMAIL, period=24 * 60 * 60
    ),
    # Daily churn predictions with the promoted model (probability, drivers, expected revenue saved), after the
    # nightly health recompute; caches churn probability on Account.
    "health-churn-predict-daily": entry(
        "health.tasks.predict_churn", crontab(hour=3, minute=15), queue=Queue.SCORING, period=24 * 60 * 60
    ),
    # Weekly retrain of the churn model on fresh monthly observations; promoted only if it beats the current
    # model on the time-based holdout.
    "health-churn-retrain-weekly": entry(
        "health.tasks.train_churn_model",
        crontab(hour=1, minute=30, day_of_week="sunday"),
        queue=Queue.SCORING,
        period=7 * 24 * 60 * 60,
    ),
    # Win-back (issue 7). Churn records and reactivations from the last week of subscription changes and Stripe
    # deliveries, after the snapshot refresh has set statuses.
    "winback-capture-churn": entry(
        "winback.tasks.capture_churn", crontab(minute=20), queue=Queue.DEFAULT, period=60 * 60
    ),
    # Survey invitations at lifecycle moments, reminders to non-responders, routing of imported answers.
    "winback-run-surveys": entry("winback.tasks.run_surveys", crontab(minute=40), queue=Queue.EMAIL, period=60 * 60),
    # Daily: CSM win-back reminder tasks that fell due (30/60/90 days scaled by size) and keyword tagging.
    "winback-daily": entry(
        "winback.tasks.daily_winback", crontab(hour=6, minute=10), queue=Queue.DEFAULT, period=24 * 60 * 60
    ),
    # Dunning: open cases for failed payments, stop recovered ones, send due reminders and card-expiry notices.
    "audit-purge-expired": entry(
        "audit.tasks.purge_expired_entries", crontab(hour=4, minute=5), queue=Queue.DEFAULT, period=24 * 60 * 60
    ),
    "winback-dunning": entry("winback.tasks.run_dunning", crontab(minute=50), queue=Queue.EMAIL, period=60 * 60),
    # The win-back overview and Feedback pages' figures (grid, KPIs, NPS, SLA, themes), so the pages never aggregate
    # per request; writes the pages show queue a refresh too, this catches everything else.
    "winback-refresh-page-facts": entry("winback.tasks.refresh_page_facts", 15 * 60, queue=Queue.SCORING),
    # Weekly clustering of the comments no keyword theme caught.
    "winback-cluster-comments": entry(
        "winback.tasks.cluster_comments",
        crontab(hour=3, minute=0, day_of_week="monday"),
        queue=Queue.SCORING,
        period=7 * 24 * 60 * 60,
    ),
    # Dashboards: rebuild the KPI facts (sums for every pair of month starts of the last 24 months, per segment and
    # plan) so dashboard pages never scan raw events or subscriptions per request. Every 6 hours from 00:25, so a
    # new month appears right after it starts and data imported during the day shows the same day.
    "dashboards-refresh-kpi-facts": entry(
        "dashboards.tasks.refresh_kpi_facts", crontab(minute=25, hour="*/6"), queue=Queue.SCORING, period=6 * 60 * 60
    ),
}
# Heartbeats (issue 16): one tiny task per queue every 30 s proves beat schedules and a worker consumes each queue;
# /healthz/ reports their age.
BEAT_SCHEDULE.update(
    {
        f"churnapp-heartbeat-{queue.value}": {
            "task": "churnapp.tasks.heartbeat",
            "schedule": timedelta(seconds=30),
            "args": (queue.value,),
            "options": {"queue": queue.value, "expires": 30},
        }
        for queue in Queue
    }
)
