"""Usage rollups and metrics, health-score profiles and snapshots, and the churn model (see the health issue).

Everything here is derived from the facts in `accounts` by workers and is rebuildable from them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from accounts.models import Account, Segment


class UsageDaily(models.Model):
    """One account's product usage on one calendar day (UTC), rebuilt from its usage events.

    `events` counts activity events (billing noise such as failed payments excluded; those are in `by_type`),
    `meaningful` is set when some user did at least HEALTH_MEANINGFUL_MIN_KEY_EVENTS key events that day.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)
    key_events = models.PositiveIntegerField(default=0)
    active_users = models.PositiveIntegerField(default=0)
    meaningful = models.BooleanField(default=False)
    payment_failures = models.PositiveIntegerField(default=0)
    by_type = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="usage_daily_unique_account_day")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.events} events"


class RollupMark(models.Model):
    """An account-day whose rollup is stale. Written in the ingest's own transaction, removed by the refresh that
    recomputes the day: a refresh task lost with the broker (or with a killed worker) leaves its marks for the
    sweep, so the rollups follow every stored event."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="rollup_mark_unique_account_day")]
        indexes = [models.Index(fields=["marked_at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} stale since {self.marked_at:%Y-%m-%d %H:%M:%S}"


class ScoreMark(models.Model):
    """An account whose health is stale: a fact that feeds a health factor changed (usage, a ticket, a survey
    answer, a subscription, an attribute). Written in the transaction that stored the fact, removed by the
    rescoring that reads it, so a lost task leaves the mark for the next sweep."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()  # the first marking: its place in the oldest-first queue
    # The latest marking: the full run clears only the marks of facts it read (marked before it started).
    last_marked_at = models.DateTimeField(null=True)
    # Only usage changed (the rollup refresh): rescored after the accounts with a ticket, a survey answer, a
    # payment or an attribute change, which are what rules act on. A usage drop marks nothing: it shows as days pass.
    routine = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["routine", "marked_at"], name="score_mark_queue")]

    def __str__(self) -> str:
        return f"{self.account_id} stale since {self.marked_at:%Y-%m-%d %H:%M:%S}"


class FeatureFirstUse(models.Model):
    """The first day an account used a key feature: feature adoption and the silent-churn flag read it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="feature_first_uses")
    feature = models.CharField(max_length=128)
    first_day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "feature"], name="feature_first_use_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.feature} since {self.first_day}"


class AccountMetrics(models.Model):
    """The usage, support, survey and billing metrics of one account as of one day (history kept).

    Null means "not known" (no survey answered, no seats purchased…): the health score leaves the factor out
    and renormalises the remaining weights.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="metrics")
    day = models.DateField()
    days_since_meaningful = models.IntegerField(null=True)
    active_days_7 = models.PositiveSmallIntegerField(default=0)
    active_days_30 = models.PositiveSmallIntegerField(default=0)
    events_30 = models.PositiveIntegerField(default=0)
    active_users_30 = models.PositiveIntegerField(default=0)
    events_per_active_user = models.FloatField(null=True)
    feature_breadth = models.PositiveSmallIntegerField(default=0)
    seat_depth = models.FloatField(null=True)
    usage_trend = models.FloatField(null=True, help_text="Events in the last 30 days vs the previous 30, −1…+1.")
    tickets_30d = models.PositiveIntegerField(default=0)
    open_tickets = models.PositiveIntegerField(default=0)
    oldest_open_ticket_days = models.PositiveIntegerField(default=0)
    nps = models.PositiveSmallIntegerField(null=True)
    csat = models.PositiveSmallIntegerField(null=True)
    payment_failures_60d = models.PositiveIntegerField(default=0)
    tenure_days = models.IntegerField(null=True)
    mrr = models.FloatField(default=0)
    mrr_change_90d = models.FloatField(null=True, help_text="MRR now vs 90 days ago, −1…+3.")
    seats = models.PositiveIntegerField(default=0)
    billing_period = models.PositiveSmallIntegerField(null=True, help_text="Longest active billing term, months.")
    days_to_renewal = models.IntegerField(null=True, help_text="Days until the current term ends (anniversaries).")
    value_per_dollar = models.FloatField(null=True)
    csm_sentiment = models.PositiveSmallIntegerField(null=True)
    silent_churn = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="account_metrics_unique_account_day")]
        indexes = [models.Index(fields=["day"])]
        verbose_name_plural = "account metrics"

    def __str__(self) -> str:
        return f"metrics {self.account_id} {self.day}"


class HealthProfile(models.Model):
    """A health-score configuration for one segment (blank segment: the default for every other account)."""

    name = models.CharField(max_length=100)
    segment = models.CharField(max_length=32, choices=Segment.choices, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["segment"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("profile version", "Draft")
    PUBLISHED = "published", pgettext_lazy("profile version", "Published")
    ARCHIVED = "archived", pgettext_lazy("profile version", "Archived")


class HealthProfileVersion(models.Model):
    """One version of a profile: factors (key, weight, normalisation) and band thresholds.

    Published and archived versions never change (snapshots point at them); a manager edits the one draft.
    `factors` is a list of {"key", "weight", "method": "thresholds", "points": [[value, score], …]} or
    {"key", "weight", "method": "percentile", "higher_is_better": bool}.
    """

    profile = models.ForeignKey(HealthProfile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    factors = models.JSONField(default=list)
    green_min = models.PositiveSmallIntegerField(default=70)
    yellow_min = models.PositiveSmallIntegerField(default=40)
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["profile", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "number"], name="profile_version_unique_number"),
            models.UniqueConstraint(
                fields=["profile"], condition=Q(status="published"), name="profile_one_published_version"
            ),
            models.UniqueConstraint(fields=["profile"], condition=Q(status="draft"), name="profile_one_draft"),
            models.CheckConstraint(condition=Q(yellow_min__lt=models.F("green_min")), name="profile_bands_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.profile} v{self.number} ({self.status})"


class HealthSnapshot(models.Model):
    """An account's health on one day: score, band, the profile version used and every factor's
    raw value, normalised value (0–100) and contribution in points (`factors`: {key: [raw, normalised,
    contribution]}). `missing` lists the factors left out (no data) whose weight was renormalised away.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_snapshots")
    day = models.DateField()
    version = models.ForeignKey(HealthProfileVersion, on_delete=models.PROTECT, related_name="snapshots")
    score = models.PositiveSmallIntegerField(null=True)
    band = models.CharField(max_length=16, blank=True)
    factors = models.JSONField(default=dict)
    missing = models.JSONField(default=list, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True, help_text="When this score was computed.")

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="health_snapshot_unique_account_day")]
        indexes = [
            models.Index(fields=["day"]),
            # The Customer 360 trend (an account's last 90 days): read from this index alone (PostgreSQL), where
            # the rows themselves lie one per day's batch across the table.
            models.Index(
                fields=["account", "day"], include=["id", "score", "band", "version"], name="health_snapshot_trend"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.score}"


class CsmSentiment(models.Model):
    """A CSM's manual rating of an account (1 very poor … 5 very good), an optional health factor until it expires."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="csm_sentiments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_on = models.DateField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="sentiment_rating_1_5")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.rating}"


class ChurnObservation(models.Model):
    """An account's features as of a month start (only data before that date) and whether it churned within
    the horizon afterwards (`label` null while the horizon has not passed yet). Training and backtests read these.
    """

    obs_date = models.DateField()
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="churn_observations")
    features = models.JSONField(default=dict)
    label = models.BooleanField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["obs_date", "account"], name="churn_observation_unique")]
        indexes = [models.Index(fields=["obs_date"])]

    def __str__(self) -> str:
        return f"{self.account_id} @ {self.obs_date}: {self.label}"


class ModelStatus(models.TextChoices):
    PROMOTED = "promoted", pgettext_lazy("churn model", "Promoted (current)")
    RETIRED = "retired", pgettext_lazy("churn model", "Retired")
    REJECTED = "rejected", pgettext_lazy("churn model", "Not better than the current model")
    FAILED = "failed", pgettext_lazy("churn model", "Could not train")


class ChurnModelVersion(models.Model):
    """A trained churn model with its data window, holdout metrics and the pickled scikit-learn pipeline."""

    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=ModelStatus.choices)
    horizon_days = models.PositiveSmallIntegerField(default=90)
    train_from = models.DateField(null=True)
    train_to = models.DateField(null=True)
    holdout_from = models.DateField(null=True)
    holdout_to = models.DateField(null=True)
    n_train = models.PositiveIntegerField(default=0)
    n_holdout = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    artifact = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="promoted"), name="one_promoted_model")
        ]

    def __str__(self) -> str:
        return f"model {self.pk} ({self.status})"


class ChurnPrediction(models.Model):
    """The promoted model's churn probability for an account on a day, with its top drivers
    (`drivers`: [{"feature", "label", "value", "effect"}], effect = coefficient × standardised value, log-odds).
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="churn_predictions")
    day = models.DateField()
    model = models.ForeignKey(ChurnModelVersion, on_delete=models.CASCADE, related_name="predictions")
    probability = models.FloatField()
    mrr_at_risk = models.FloatField(default=0)
    expected_saved = models.FloatField(default=0, help_text="probability × value × save rate − action cost")
    drivers = models.JSONField(default=list)

    class Meta:
        ordering = ["-expected_saved"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="churn_prediction_unique")]
        indexes = [models.Index(fields=["day", "-expected_saved"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.probability:.2f}"


class LabRunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("lab run", "Queued")
    RUNNING = "running", pgettext_lazy("lab run", "Running")
    DONE = "done", pgettext_lazy("lab run", "Done")
    FAILED = "failed", pgettext_lazy("lab run", "Failed")


class ChurnLabRun(models.Model):
    """One evaluation of every churn-model candidate on a chosen split: trained on the observations before
    `train_until` (labels known by `test_from`), scored on those dated `test_from`…`test_until`, as if today were
    `as_of` (blank: the day it ran). `results` holds each candidate's metrics, the baseline included."""

    created_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=16, choices=LabRunStatus.choices, default=LabRunStatus.QUEUED)
    train_until = models.DateField()
    test_from = models.DateField()
    test_until = models.DateField()
    horizon_days = models.PositiveSmallIntegerField()
    as_of = models.DateField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"lab run {self.pk} ({self.status})"
