"""Win-back domain: churn records and their reasons, surveys and their follow-up, themes, campaigns, dunning."""

from winback.models.campaigns import (
    Campaign,
    CampaignEnrollment,
    CsmReminder,
    EnrollmentStatus,
    Offer,
    Reactivation,
    ReleaseNote,
    Touchpoint,
    TouchpointChannel,
    TouchpointStatus,
    WinbackSuppression,
)
from winback.models.churn import ChurnReason, ChurnRecord, ChurnSource, ChurnType
from winback.models.dunning import CardExpiryReminder, DunningCase, DunningStatus, DunningStep
from winback.models.page_facts import PageFacts
from winback.models.surveys import (
    IssueRoute,
    IssueType,
    ResponseFollowUp,
    SegmentStay,
    SurveyInvitation,
    SurveySchedule,
    SurveyTrigger,
)
from winback.models.themes import ClusterRun, LoopMessage, ResponseTheme, Theme, ThemeCluster, ThemeSource

__all__ = [
    "Campaign",
    "CampaignEnrollment",
    "CardExpiryReminder",
    "ChurnReason",
    "ChurnRecord",
    "ChurnSource",
    "ChurnType",
    "ClusterRun",
    "CsmReminder",
    "DunningCase",
    "DunningStatus",
    "DunningStep",
    "EnrollmentStatus",
    "IssueRoute",
    "IssueType",
    "LoopMessage",
    "Offer",
    "PageFacts",
    "Reactivation",
    "ReleaseNote",
    "ResponseFollowUp",
    "ResponseTheme",
    "SegmentStay",
    "SurveyInvitation",
    "SurveySchedule",
    "SurveyTrigger",
    "Theme",
    "ThemeCluster",
    "ThemeSource",
    "Touchpoint",
    "TouchpointChannel",
    "TouchpointStatus",
    "WinbackSuppression",
]
