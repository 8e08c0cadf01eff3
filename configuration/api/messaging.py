"""Email templates and outgoing webhook endpoints over the API, looked up by key.

Templates save through `messaging.email.templates.email_template_save`; a template a rule or a playbook step sends
cannot be deleted (409). Webhook endpoints (admins, or `config` / `admin` keys) save through `messaging.webhooks`;
their signing `secret` is write-only: generated on create unless given, answered once in the create response and
never again.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from automations import removal
from churnapp.authentication import HasApiKeyScope
from configuration import selectors
from configuration.api.base import IN_USE, TAGS, AdminPermission, CrudViewSet, refusals
from messaging import webhooks
from messaging.email import templates
from messaging.models import EmailTemplate, WebhookEndpoint, WebhookEvent


class EmailTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmailTemplate
        fields = ["id", "key", "name", "subject", "body_text", "body_html", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def _save(self, template: EmailTemplate | None, data: dict) -> EmailTemplate:
        fields = ("key", "name", "subject", "body_text", "body_html")
        values = {f: getattr(template, f) for f in fields} if template else {}
        values.update({f: data[f] for f in fields if f in data})
        return templates.email_template_save(**values, template=template)

    def create(self, validated_data):
        return self._save(None, validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Email templates"),
    create=extend_schema(tags=TAGS, summary="Create an email template"),
    retrieve=extend_schema(tags=TAGS, summary="An email template, by key"),
    update=extend_schema(tags=TAGS, summary="Replace an email template"),
    partial_update=extend_schema(tags=TAGS, summary="Change some of an email template's fields"),
    destroy=extend_schema(
        tags=TAGS,
        summary="Delete an email template (refused while a rule or a playbook step sends it)",
        responses={204: None, 409: IN_USE},
    ),
)
class EmailTemplateViewSet(CrudViewSet):
    """Reusable emails with `{{ variable }}` placeholders, sent by rules, playbook steps and campaigns."""

    serializer_class = EmailTemplateSerializer
    ordering_fields = ["name", "key", "updated_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.email_templates()

    def remove(self, instance) -> None:
        removal.email_template_delete(template=instance)


# --- Outgoing webhook endpoints --------------------------------------------------------------------------------------


class WebhookEndpointSerializer(serializers.ModelSerializer):
    key = serializers.SlugField(
        max_length=100, required=False, help_text="Stable identifier; made from the description or host when left out."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, help_text="Events it receives."
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=64,
        help_text="The signing secret (write-only). Generated when left out on create; kept when left out on update.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "key", "url", "description", "events", "secret", "is_active", "consecutive_failures",
                  "disabled_at", "disabled_reason", "created_at"]  # fmt: skip
        read_only_fields = ["id", "consecutive_failures", "disabled_at", "disabled_reason", "created_at"]
        extra_kwargs = {"is_active": {"help_text": "False disables deliveries; true enables them again."}}

    def validate_key(self, value: str) -> str:
        if selectors.key_taken(WebhookEndpoint, value, instance=self.instance):
            raise serializers.ValidationError(_("Another webhook endpoint has this key."))
        return value

    def validate_url(self, value: str) -> str:
        try:
            webhooks.check_url(value)
        except webhooks.UnsafeUrl as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def create(self, validated_data):
        endpoint = webhooks.endpoint_create(
            key=validated_data.get("key", ""), url=validated_data["url"], events=validated_data["events"],
            description=validated_data.get("description", ""), secret=validated_data.get("secret", ""),
            created_by=self.context["actor"],
        )  # fmt: skip
        if validated_data.get("is_active") is False:
            webhooks.endpoint_disable(endpoint=endpoint, reason=_("Disabled over the API."))
        return endpoint

    def update(self, instance, validated_data):
        values = {f: validated_data.get(f, getattr(instance, f)) for f in ("key", "url", "events", "description")}
        endpoint = webhooks.endpoint_update(endpoint=instance, **values, secret=validated_data.get("secret", ""))
        active = validated_data.get("is_active")
        if active is True and not endpoint.is_active:
            endpoint = webhooks.endpoint_enable(endpoint=endpoint)
        elif active is False and endpoint.is_active:
            endpoint = webhooks.endpoint_disable(endpoint=endpoint, reason=_("Disabled over the API."))
        return endpoint


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The create response: the endpoint and, this once, its signing secret."""

    secret = serializers.CharField(read_only=True, help_text="The signing secret: shown this once, store it now.")


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Outgoing webhook endpoints (without their secrets)"),
    create=extend_schema(
        tags=TAGS,
        summary="Subscribe a URL to events (the answer carries the signing secret, once)",
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    ),
    retrieve=extend_schema(tags=TAGS, summary="A webhook endpoint, by key"),
    update=extend_schema(tags=TAGS, summary="Replace a webhook endpoint's settings"),
    partial_update=extend_schema(tags=TAGS, summary="Change some settings (is_active enables or disables it)"),
    destroy=extend_schema(tags=TAGS, summary="Unsubscribe (the endpoint and its delivery log go)"),
)
class WebhookEndpointViewSet(CrudViewSet):
    """URLs subscribed to platform events; deliveries are signed with the endpoint's secret. Admins only (and
    `config` or `admin` keys), as on the integrations page. Filter with ?is_active=false."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsAuthenticated, HasApiKeyScope, AdminPermission]
    filterset_fields = ["is_active"]
    ordering_fields = ["key", "created_at"]
    ordering = ["key"]

    def get_queryset(self):
        return selectors.webhook_endpoints()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with refusals():
            endpoint = serializer.save()
        created = WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context())
        return Response(created.data, status=status.HTTP_201_CREATED)

    def remove(self, instance) -> None:
        webhooks.endpoint_delete(endpoint=instance)
