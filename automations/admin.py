from django.contrib import admin

from automations import models


class MilestoneInline(admin.TabularInline):
    model = models.Milestone
    extra = 0


@admin.register(models.Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "onboarding", "segment"]
    inlines = [MilestoneInline]


class PlaybookStepInline(admin.TabularInline):
    model = models.PlaybookStep
    extra = 0


@admin.register(models.Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "enabled", "holdout_percent", "owner_role"]
    inlines = [PlaybookStepInline]


@admin.register(models.Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "enabled", "cooldown_days", "last_evaluated_at", "last_matched"]
    list_filter = ["enabled"]


@admin.register(models.Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["account", "playbook", "status", "holdout", "step", "next_run_at", "enrolled_at"]
    list_filter = ["status", "holdout", "playbook"]
    raw_id_fields = ["account"]


@admin.register(models.RuleExecution)
class RuleExecutionAdmin(admin.ModelAdmin):
    list_display = ["rule", "account", "status", "created_at", "finished_at"]
    list_filter = ["status", "rule"]
    raw_id_fields = ["account", "task"]


@admin.register(models.AccountRole)
class AccountRoleAdmin(admin.ModelAdmin):
    list_display = ["account", "role", "user", "created_at"]
    list_filter = ["role"]
    search_fields = ["account__name", "user__username", "role"]
    raw_id_fields = ["account", "user"]
