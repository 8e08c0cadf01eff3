"""The beat schedule: every periodic job of the platform, in one place."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab
from django.conf import settings

from churnapp.celery import Queue

BEAT_SCHEDULE = {
    # Keep each account's cached MRR, seats, renewal date and subscription status in step with its
    # subscriptions (a subscription that ended yesterday churns the account today).
    "accounts-refresh-snapshots": {
        "task": "accounts.tasks.refresh_account_snapshots",
        "schedule": timedelta(seconds=settings.ACCOUNT_SNAPSHOT_INTERVAL),
        "options": {"queue": Queue.SCORING.value, "expires": settings.ACCOUNT_SNAPSHOT_INTERVAL * 1.5},
    },
    # Nightly full recompute of every account's usage metrics and health snapshot (set-based), which also
    # caches score, band and 30-day trend on Account for the lists.
    "accounts-recover-stale-imports": {
        "task": "accounts.imports.tasks.recover_stale_imports",
        "schedule": timedelta(minutes=5),
        "options": {"queue": Queue.INGEST.value, "expires": 5 * 60 * 1.5},
    },
    # Usage rollups whose refresh task was lost (broker outage, killed worker): their stale marks outlive it.
    "health-sweep-rollup-marks": {
        "task": "health.tasks.sweep_rollup_marks",
        "schedule": timedelta(seconds=60),
        "options": {"queue": Queue.SCORING.value, "expires": 90},
    },
    # Health of the accounts whose facts changed, for marks whose queued rescoring was lost.
    "health-rescore-marked": {
        "task": "health.tasks.rescore_accounts",
        "schedule": timedelta(seconds=15),
        "options": {"queue": Queue.SCORING.value, "expires": 15},
    },
    "health-recompute-nightly": {
        "task": "health.tasks.recompute_health",
        "schedule": crontab(hour=2, minute=15),
        "options": {"queue": Queue.SCORING.value, "expires": 24 * 60 * 60 * 1.5},
    },
    # Recovery sweep of the email outbox: re-send messages whose send task was lost (broker outage, killed worker).
    "messaging-requeue-stale-emails": {
        "task": "messaging.tasks.requeue_stale_emails",
        "schedule": timedelta(minutes=5),
        "options": {"queue": Queue.EMAIL.value, "expires": 5 * 60 * 1.5},
    },
    # Trigger rules: one evaluation cycle of every enabled rule (set-based), then the actions of what fired.
    "automations-evaluate-rules": {
        "task": "automations.tasks.evaluate_rules",
        "schedule": timedelta(seconds=settings.AUTOMATIONS_RULES_INTERVAL),
        "options": {"queue": Queue.DEFAULT.value, "expires": settings.AUTOMATIONS_RULES_INTERVAL * 1.5},
    },
    # Rules again for the accounts with new facts in the last minutes, so a rule fires within a minute of a fact.
    "automations-evaluate-rules-recent": {
        "task": "automations.tasks.evaluate_rules_recent",
        "schedule": timedelta(seconds=60),
        "options": {"queue": Queue.DEFAULT.value, "expires": 90},
    },
    # Time-based conditions ("no login for 10 days"): the accounts whose threshold was crossed since the last tick.
    "automations-evaluate-crossings": {
        "task": "automations.tasks.evaluate_crossings",
        "schedule": timedelta(seconds=15),
        "options": {"queue": Queue.DEFAULT.value, "expires": 30},
    },
    # Playbook enrolments whose wait is over run their next steps.
    "automations-advance-playbooks": {
        "task": "automations.tasks.advance_playbooks",
        "schedule": timedelta(minutes=5),
        "options": {"queue": Queue.DEFAULT.value, "expires": 5 * 60 * 1.5},
    },
    # Journeys: apply to new accounts, mark reached and missed milestones (missed ones feed the rules).
    "automations-refresh-journeys": {
        "task": "automations.tasks.refresh_journeys",
        "schedule": timedelta(minutes=15),
        "options": {"queue": Queue.SCORING.value, "expires": 15 * 60 * 1.5},
    },
    # Daily task digest with overdue reminders, before the working day.
    "messaging-task-digest": {
        "task": "messaging.tasks.send_task_digests",
        "schedule": crontab(hour=6, minute=30),
        "options": {"queue": Queue.EMAIL.value, "expires": 24 * 60 * 60 * 1.5},
    },
    # Daily churn predictions with the promoted model (probability, drivers, expected revenue saved), after the
    # nightly health recompute; caches churn probability on Account.
    "health-churn-predict-daily": {
        "task": "health.tasks.predict_churn",
        "schedule": crontab(hour=3, minute=15),
        "options": {"queue": Queue.SCORING.value, "expires": 24 * 60 * 60 * 1.5},
    },
    # Weekly retrain of the churn model on fresh monthly observations; promoted only if it beats the current
    # model on the time-based holdout.
    "health-churn-retrain-weekly": {
        "task": "health.tasks.train_churn_model",
        "schedule": crontab(hour=1, minute=30, day_of_week="sunday"),
        "options": {"queue": Queue.SCORING.value, "expires": 7 * 24 * 60 * 60 * 1.5},
    },
    # Win-back (issue 7). Churn records and reactivations from the last week of subscription changes and Stripe
    # deliveries, after the snapshot refresh has set statuses.
    "winback-capture-churn": {
        "task": "winback.tasks.capture_churn",
        "schedule": crontab(minute=20),
        "options": {"queue": Queue.DEFAULT.value, "expires": 60 * 60 * 1.5},
    },
    # Survey invitations at lifecycle moments, reminders to non-responders, routing of imported answers.
    "winback-run-surveys": {
        "task": "winback.tasks.run_surveys",
        "schedule": crontab(minute=40),
        "options": {"queue": Queue.EMAIL.value, "expires": 60 * 60 * 1.5},
    },
    # Daily: CSM win-back reminder tasks that fell due (30/60/90 days scaled by size) and keyword tagging.
    "winback-daily": {
        "task": "winback.tasks.daily_winback",
        "schedule": crontab(hour=6, minute=10),
        "options": {"queue": Queue.DEFAULT.value, "expires": 24 * 60 * 60 * 1.5},
    },
    # Dunning: open cases for failed payments, stop recovered ones, send due reminders and card-expiry notices.
    "winback-dunning": {
        "task": "winback.tasks.run_dunning",
        "schedule": crontab(minute=50),
        "options": {"queue": Queue.EMAIL.value, "expires": 60 * 60 * 1.5},
    },
    # The win-back overview and Feedback pages' figures (grid, KPIs, NPS, SLA, themes), so the pages never aggregate
    # per request; writes the pages show queue a refresh too, this catches everything else.
    "winback-refresh-page-facts": {
        "task": "winback.tasks.refresh_page_facts",
        "schedule": 15 * 60,
        "options": {"queue": Queue.SCORING.value, "expires": 15 * 60 * 1.5},
    },
    # Weekly clustering of the comments no keyword theme caught.
    "winback-cluster-comments": {
        "task": "winback.tasks.cluster_comments",
        "schedule": crontab(hour=3, minute=0, day_of_week="monday"),
        "options": {"queue": Queue.SCORING.value, "expires": 7 * 24 * 60 * 60 * 1.5},
    },
    # Dashboards: rebuild the KPI facts (sums for every pair of month starts of the last 24 months, per segment and
    # plan) so dashboard pages never scan raw events or subscriptions per request. Every 6 hours from 00:25, so a
    # new month appears right after it starts and data imported during the day shows the same day.
    "dashboards-refresh-kpi-facts": {
        "task": "dashboards.tasks.refresh_kpi_facts",
        "schedule": crontab(minute=25, hour="*/6"),
        "options": {"queue": Queue.SCORING.value, "expires": 6 * 60 * 60 * 1.5},
    },
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
