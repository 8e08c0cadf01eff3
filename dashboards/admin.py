from django.contrib import admin

from dashboards.models import AcquisitionCost, Goal, KpiFactRun


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ("metric", "segment", "comparator", "target", "year", "quarter", "created_by")
    list_filter = ("year", "quarter", "metric", "segment")


@admin.register(AcquisitionCost)
class AcquisitionCostAdmin(admin.ModelAdmin):
    list_display = ("month", "segment", "amount", "updated_by", "updated_at")
    list_filter = ("segment",)
    date_hierarchy = "month"


@admin.register(KpiFactRun)
class KpiFactRunAdmin(admin.ModelAdmin):
    """Runs of the KPI fact refresh, read-only: the worker writes them."""

    list_display = ("started_at", "finished_at", "status", "first_month", "last_month", "accounts", "period_rows")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
