"""What contacts say: NPS and CSAT survey responses."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models.accounts import Account, Contact


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT")


class SurveyResponse(models.Model):
    """An NPS (0–10) or CSAT (1–5) answer from a contact."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses")
    external_id = models.CharField(max_length=128, blank=True, help_text="Id in the survey tool, for upserts.")
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    responded_at = models.DateTimeField()

    class Meta:
        ordering = ["-responded_at"]
        indexes = [models.Index(fields=["account", "responded_at"]), models.Index(fields=["kind", "responded_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="nps", score__lte=10) | Q(kind="csat", score__gte=1, score__lte=5)),
                name="survey_score_in_range",
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="survey_response_unique_external_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.score}"

    @property
    def category(self) -> str:
        """promoter / passive / detractor for NPS; satisfied / neutral / dissatisfied for CSAT."""
        if self.kind == SurveyKind.NPS:
            return "promoter" if self.score >= 9 else "passive" if self.score >= 7 else "detractor"
        return "satisfied" if self.score >= 4 else "neutral" if self.score == 3 else "dissatisfied"
