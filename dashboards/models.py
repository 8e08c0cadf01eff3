"""Dashboards: managers' quarterly goals and CAC entries, and the precomputed KPI facts the pages read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Segment
from dashboards.kpis.metrics import CSAT_SCORES, NPS_SCORES


class GoalMetric(models.TextChoices):
    MONTHLY_CHURN = "monthly_churn", _("Monthly logo churn")
    MRR_CHURN = "mrr_churn", _("Monthly MRR churn")
    NET_RETENTION = "net_retention", _("Net MRR retention (NRR)")
    GROSS_RETENTION = "gross_retention", _("Gross MRR retention")
    NPS = "nps", "NPS"
    CSAT = "csat", "CSAT"
    MRR = "mrr", "MRR"
    ARPA = "arpa", "ARPA"


class Comparator(models.TextChoices):
    AT_MOST = "lte", _("at most")
    AT_LEAST = "gte", _("at least")


class Goal(models.Model):
    """A quarterly target for one KPI ("monthly churn at most 3 % in 2026 Q1"), for all accounts or one segment.

    `target` is in the metric's display unit: percent for rates, points for NPS, currency for MRR and ARPA.
    """

    metric = models.CharField(_("metric"), max_length=32, choices=GoalMetric.choices)
    comparator = models.CharField(_("comparator"), max_length=3, choices=Comparator.choices)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    segment = models.CharField(max_length=32, choices=Segment.choices, blank=True, help_text="Empty: all segments.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-quarter", "metric", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "year", "quarter", "segment"], name="goal_unique_per_quarter"),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="goal_quarter_1_to_4"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="goal_year_in_range"),
        ]

    def __str__(self) -> str:
        scope = f" ({self.get_segment_display()})" if self.segment else ""
        return f"{self.get_metric_display()}{scope} {self.get_comparator_display()} {self.target} in {self.label}"

    @property
    def label(self) -> str:
        return gettext("%(year)s Q%(quarter)s") % {"year": self.year, "quarter": self.quarter}


class AcquisitionCost(models.Model):
    """Customer acquisition cost (CAC) a manager entered for one month, for all accounts or one segment."""

    month = models.DateField(help_text="First day of the month.")
    segment = models.CharField(max_length=32, choices=Segment.choices, blank=True, help_text="Empty: all segments.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["month", "segment"], name="cac_unique_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="cac_month_is_first_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="cac_not_negative"),
        ]

    def __str__(self) -> str:
        return f"CAC {self.month:%Y-%m} {self.segment or 'all'}: {self.amount}"


class FactRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"


class KpiFactRun(models.Model):
    """One rebuild of the KPI facts: which month starts it covers and how long it took.

    The dashboard reads facts of the latest complete run; a period between two month starts in
    [first_month, last_month] is answered from `PeriodFact`, anything else is computed live.
    """

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=FactRunStatus.choices, default=FactRunStatus.RUNNING)
    first_month = models.DateField()
    last_month = models.DateField()
    accounts = models.PositiveIntegerField(default=0)
    period_rows = models.PositiveIntegerField(default=0)
    cohort_rows = models.PositiveIntegerField(default=0)
    lifecycle_rows = models.PositiveIntegerField(default=0, help_text="Lifetime, band, engagement, onboarding rows.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-finished_at"])]

    def __str__(self) -> str:
        return f"KPI facts {self.first_month:%Y-%m}–{self.last_month:%Y-%m} ({self.status})"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class PeriodFact(models.Model):
    """Sums for the period [start, end] between two month starts, per segment × plan of the accounts.

    Every KPI is a ratio of these sums (see `dashboards.kpis.metrics`), so adding up the rows that match a
    filter answers it exactly. Money in cents. Owners are not a dimension: there are about as many as accounts
    ÷ 60, and a filter on one owner is a small, indexed live query.
    """

    start = models.DateField()
    end = models.DateField()
    months = models.PositiveSmallIntegerField(help_text="Calendar months from start to end.")
    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)

    n_start = models.IntegerField(default=0)
    n_end = models.IntegerField(default=0)
    n_churn = models.IntegerField(default=0)
    n_retained = models.IntegerField(default=0)
    n_new = models.IntegerField(default=0)
    n_reactivated = models.IntegerField(default=0)
    n_expanded = models.IntegerField(default=0)
    n_contracted = models.IntegerField(default=0)
    start_mrr = models.BigIntegerField(default=0)
    end_mrr = models.BigIntegerField(default=0)
    churn_mrr = models.BigIntegerField(default=0)
    downsell_mrr = models.BigIntegerField(default=0)
    expansion_mrr = models.BigIntegerField(default=0)
    retained_mrr = models.BigIntegerField(default=0)
    gross_retained_mrr = models.BigIntegerField(default=0)
    new_mrr = models.BigIntegerField(default=0)
    reactivation_mrr = models.BigIntegerField(default=0)
    act_1m_start = models.IntegerField(default=0)
    act_1m_churn = models.IntegerField(default=0)
    act_30d_start = models.IntegerField(default=0)
    act_30d_churn = models.IntegerField(default=0)
    # nps_0 … nps_10 and csat_1 … csat_5 (responses per score) are added below the class.

    class Meta:
        indexes = [models.Index(fields=["start", "end"]), models.Index(fields=["months", "start"])]

    def __str__(self) -> str:
        return f"{self.start}–{self.end} {self.segment}/{self.plan}"


# One column per score keeps the distributions summable in SQL.
for _score in NPS_SCORES:
    PeriodFact.add_to_class(f"nps_{_score}", models.IntegerField(default=0))
for _score in CSAT_SCORES:
    PeriodFact.add_to_class(f"csat_{_score}", models.IntegerField(default=0))


class CohortFact(models.Model):
    """Accounts of a monthly cohort still active k months after their first subscription, per segment × plan.

    Only cells every member has reached by the run's last month are stored (see `cohort_activity`).
    """

    cohort = models.DateField()
    k = models.PositiveSmallIntegerField()
    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)
    n_active = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["cohort", "k"])]

    def __str__(self) -> str:
        return f"cohort {self.cohort:%Y-%m} +{self.k}: {self.n_active}"


class AccountSnapshotFact(models.Model):
    """Accounts that have not churned, per segment × plan × owner × health band, as the fact run found them.

    What the health-band and workload widgets add up, so they need not scan every account per request.
    Money in cents; `owner_id` is a plain column (a fact table, not a relation).
    """

    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)
    owner_id = models.IntegerField(null=True)
    health_band = models.CharField(max_length=16)
    n_accounts = models.IntegerField(default=0)
    n_at_risk = models.IntegerField(default=0, help_text="Status at risk or red health.")
    mrr = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.segment}/{self.plan}/{self.owner_id}/{self.health_band or 'unscored'}: {self.n_accounts}"


class TaskLoadFact(models.Model):
    """Open tasks per assignee and segment × plan of their accounts, as the fact run found them (for the workload).

    `owner_id` is the assignee, named like the owner so the dashboard's owner filter applies unchanged.
    """

    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)
    owner_id = models.IntegerField(null=True, help_text="The tasks' assignee.")
    open_tasks = models.IntegerField(default=0)
    overdue_tasks = models.IntegerField(default=0, help_text="Open with a due date before the run's day.")

    def __str__(self) -> str:
        return f"{self.segment}/{self.plan}/{self.owner_id}: {self.open_tasks} open"


class LifetimeFact(models.Model):
    """Accounts of a monthly cohort (month of their first subscription start) followed to the run's last month
    start, per segment × plan, by lifetime in days and whether they churned by then: what the Kaplan–Meier curve
    of a period ending at that month start counts (`dashboards.selectors.lifecycle.account_lifetimes`)."""

    cohort = models.DateField()
    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)
    duration = models.IntegerField(help_text="Days from the first subscription start to churn or to the run's month.")
    churned = models.BooleanField()
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["cohort"])]

    def __str__(self) -> str:
        return f"cohort {self.cohort:%Y-%m} {self.segment}/{self.plan}: {self.n} × {self.duration} d"


class BandMovementFact(models.Model):
    """Accounts per (band on `from_day`, band on `to_day`) per segment × plan, for the period from `start` to the
    run's last month start: `from_day` and `to_day` are its first and last days with health snapshots."""

    start = models.DateField()
    from_day = models.DateField()
    to_day = models.DateField()
    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)
    from_band = models.CharField(max_length=16, help_text="Empty: not scored or no snapshot that day.")
    to_band = models.CharField(max_length=16, help_text="Empty: not scored or no snapshot that day.")
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["start"])]

    def __str__(self) -> str:
        return f"{self.from_day}→{self.to_day} {self.from_band or '-'}→{self.to_band or '-'}: {self.n}"


class EngagementFact(models.Model):
    """Accounts per active days (in the 30 days up to `day`, the last day before `end` with stored usage metrics),
    per segment × plan: the engagement frequency of periods ending at the month start `end`."""

    end = models.DateField()
    day = models.DateField()
    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)
    active_days = models.PositiveSmallIntegerField()
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["end"])]

    def __str__(self) -> str:
        return f"{self.day} {self.segment}/{self.plan}: {self.n} × {self.active_days} active days"


class OnboardingFact(models.Model):
    """Accounts created in a month (the signup cohort) on an onboarding journey, per segment × plan: rows with a
    milestone count, per whole days to reach it, those that reached it (`days` set) or missed it (`days` empty);
    the row without a milestone counts the cohort's accounts on the journey. Ids are plain columns (a fact table)."""

    journey_id = models.IntegerField()
    milestone_id = models.IntegerField(null=True)
    cohort = models.DateField()
    segment = models.CharField(max_length=32)
    plan = models.CharField(max_length=64)
    days = models.IntegerField(null=True)
    n_accounts = models.IntegerField(default=0)
    n_reached = models.IntegerField(default=0)
    n_missed = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["cohort"])]

    def __str__(self) -> str:
        return f"journey {self.journey_id} milestone {self.milestone_id} cohort {self.cohort:%Y-%m}"
