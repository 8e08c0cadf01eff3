"""Themes of survey comments: configured keyword themes, automatic clusters and "you told us" messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from winback.models.surveys import IssueType


class ThemeSource(models.TextChoices):
    KEYWORDS = "keywords", _("Keywords")
    CLUSTER = "cluster", _("Named cluster")


class Theme(models.Model):
    """A recurring topic in comments ("pricing", "integrations"); comments containing a keyword are tagged."""

    name = models.CharField(max_length=64, unique=True)
    keywords = models.TextField(blank=True, help_text="Comma-separated words or phrases, matched case-insensitively.")
    source = models.CharField(max_length=16, choices=ThemeSource.choices, default=ThemeSource.KEYWORDS)
    issue_type = models.CharField(
        max_length=32,
        choices=IssueType.choices,
        blank=True,
        help_text="The issue type of dissatisfied answers whose comment mentions this theme (for task routing).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.split(",") if k.strip()]


class ResponseTheme(models.Model):
    """A survey answer tagged with a theme (by keyword or through a named cluster)."""

    response = models.ForeignKey("accounts.SurveyResponse", on_delete=models.CASCADE, related_name="theme_links")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="response_links")
    source = models.CharField(max_length=16, choices=ThemeSource.choices, default=ThemeSource.KEYWORDS)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "theme"], name="response_theme_unique")]

    def __str__(self) -> str:
        return f"{self.response_id} → {self.theme}"


class ClusterRun(models.Model):
    """One clustering of the comments no keyword theme caught (TF-IDF + NMF or k-means)."""

    method = models.CharField(max_length=16, default="nmf")
    n_clusters = models.PositiveSmallIntegerField()
    n_comments = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} run {self.created_at:%Y-%m-%d} ({self.n_clusters} clusters)"


class ThemeCluster(models.Model):
    """One cluster of a run: its top terms, members and, once a manager names it, its theme."""

    run = models.ForeignKey(ClusterRun, on_delete=models.CASCADE, related_name="clusters")
    index = models.PositiveSmallIntegerField()
    top_terms = models.JSONField(default=list)
    responses = models.ManyToManyField("accounts.SurveyResponse", related_name="+")
    size = models.PositiveIntegerField(default=0)
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="clusters")

    class Meta:
        ordering = ["run", "-size"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="theme_cluster_unique_index")]

    def __str__(self) -> str:
        return self.label

    @property
    def terms(self) -> list[str]:
        """The top terms with each word once (runs stored before that rule may hold "rough" and "rough edges")."""
        from winback.textmining import distinct_terms  # scikit-learn: loaded only when a label is shown

        return distinct_terms(self.top_terms)

    @property
    def label(self) -> str:
        """A readable name until a manager names the cluster: "Rough edges · Fine"."""
        from winback.textmining import cluster_label  # scikit-learn: loaded only when a label is shown

        return cluster_label(self.top_terms)


class LoopMessage(models.Model):
    """A "you told us, we changed this" message sent to the respondents of a theme."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="loop_messages")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return self.subject
