"""Admin for the win-back configuration (reason taxonomy, survey schedules, themes) and for auditing its records."""

from django.contrib import admin

from winback import models


@admin.register(models.ChurnReason)
class ChurnReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "parent", "is_involuntary", "is_active", "position"]
    list_filter = ["is_involuntary", "is_active", "parent"]
    list_editable = ["position", "is_active"]


@admin.register(models.ChurnRecord)
class ChurnRecordAdmin(admin.ModelAdmin):
    list_display = ["account", "churned_on", "churn_type", "reason", "competitor", "mrr_lost", "source", "won_back_on"]
    list_filter = ["churn_type", "source", "reason"]
    search_fields = ["account__name", "competitor", "comment"]
    raw_id_fields = ["account", "created_by"]
    date_hierarchy = "churned_on"


@admin.register(models.SurveySchedule)
class SurveyScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "trigger", "offset_days", "segment", "sample_rate", "is_active"]
    list_filter = ["kind", "trigger", "is_active"]


@admin.register(models.IssueRoute)
class IssueRouteAdmin(admin.ModelAdmin):
    list_display = ["issue_type", "assignee", "role", "sla_days"]
    raw_id_fields = ["assignee"]


@admin.register(models.SegmentStay)
class SegmentStayAdmin(admin.ModelAdmin):
    list_display = ["account", "segment", "entered_on", "left_on"]
    list_filter = ["segment"]
    search_fields = ["account__name"]
    raw_id_fields = ["account"]


@admin.register(models.SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ["contact", "account", "kind", "schedule", "sent_at", "reminded_at", "responded_at", "expires_at"]
    list_filter = ["kind", "schedule"]
    raw_id_fields = ["account", "contact", "response"]
    # The token is a bearer credential for the public page: never shown here.
    exclude = ["token"]


@admin.register(models.Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "keywords", "issue_type"]
    list_filter = ["source"]


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "offer", "is_active", "attribution_window_days", "created_at"]
    list_filter = ["offer", "is_active"]
    filter_horizontal = ["reasons"]


@admin.register(models.ReleaseNote)
class ReleaseNoteAdmin(admin.ModelAdmin):
    list_display = ["title", "published_on"]
    filter_horizontal = ["reasons"]


@admin.register(models.WinbackSuppression)
class WinbackSuppressionAdmin(admin.ModelAdmin):
    list_display = ["account", "reason", "created_by", "created_at"]
    raw_id_fields = ["account"]


@admin.register(models.DunningCase)
class DunningCaseAdmin(admin.ModelAdmin):
    list_display = ["account", "failed_at", "status", "steps_sent", "recovered_at"]
    list_filter = ["status"]
    raw_id_fields = ["account"]


@admin.register(models.Reactivation)
class ReactivationAdmin(admin.ModelAdmin):
    list_display = ["account", "reactivated_on", "mrr_won_back", "campaign", "touchpoint"]
    raw_id_fields = ["account", "churn_record", "subscription", "touchpoint"]
