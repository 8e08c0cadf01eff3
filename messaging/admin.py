from django.contrib import admin

from messaging import models


@admin.register(models.EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "subject", "updated_at"]


@admin.register(models.EmailMessage)
class EmailMessageAdmin(admin.ModelAdmin):
    list_display = ["to_email", "subject", "source", "status", "created_at", "sent_at", "opened_at", "clicked_at"]
    list_filter = ["status", "source"]
    search_fields = ["to_email", "subject", "dedupe_key"]
    raw_id_fields = ["account", "contact", "template"]


@admin.register(models.Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at"]
    search_fields = ["email"]


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "created_at", "read_at"]
    raw_id_fields = ["user", "account"]


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "is_active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]  # shown once, on creation, in the product's own page


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_code", "created_at", "delivered_at"]
    list_filter = ["status", "event"]
    raw_id_fields = ["endpoint"]
