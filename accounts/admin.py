from django.contrib import admin

from accounts.models import (
    Account,
    Activity,
    Contact,
    ExchangeRate,
    SavedView,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Tag,
    Task,
    UsageEvent,
)


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "owner", "segment", "plan", "status", "mrr", "health_band", "renewal_date"]
    list_filter = ["status", "segment", "lifecycle_stage", "health_band"]
    search_fields = ["name", "domain", "external_id"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["tags"]
    inlines = [ContactInline, SubscriptionInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "account", "user_id", "is_primary"]
    search_fields = ["name", "email", "user_id"]
    raw_id_fields = ["account"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "account",
        "product",
        "mrr",
        "currency",
        "original_mrr",
        "quantity",
        "start_date",
        "end_date",
        "status",
    ]
    list_filter = ["status", "billing_period"]
    raw_id_fields = ["account"]


@admin.register(UsageEvent)
class UsageEventAdmin(admin.ModelAdmin):
    list_display = ["event_type", "account", "user_id", "occurred_at"]
    list_filter = ["event_type"]
    raw_id_fields = ["account"]
    show_full_result_count = False


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    list_display = ["subject", "account", "status", "priority", "opened_at", "resolved_at"]
    list_filter = ["status", "priority"]
    raw_id_fields = ["account"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "score", "responded_at"]
    list_filter = ["kind"]
    raw_id_fields = ["account", "contact"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "subject", "author", "occurred_at"]
    list_filter = ["kind"]
    raw_id_fields = ["account", "author"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "assignee", "due_date", "priority", "status", "source"]
    list_filter = ["status", "priority", "source"]
    raw_id_fields = ["account", "assignee", "created_by"]


admin.site.register(Tag)
admin.site.register(SavedView)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """The dated rates that convert subscriptions priced in another currency into the reporting one."""

    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]
    ordering = ["currency", "-valid_from"]
