"""Win-back over the REST API: the reason taxonomy, churn records (and the cancel write), pauses, campaign KPIs."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.models import Account, Contact
from churnapp.roles import can_edit_account
from winback import selectors, services
from winback.models import Campaign, ChurnReason, ChurnRecord, ChurnType, SurveyInvitation
from winback.services.surveys import survey_url


class ChurnReasonSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = ChurnReason
        fields = ["code", "label", "parent", "is_involuntary"]
        read_only_fields = fields


class ChurnRecordSerializer(serializers.ModelSerializer):
    reason = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    account_external_id = serializers.CharField(source="account.external_id", read_only=True)
    reactivated_on = serializers.DateField(source="won_back_on", read_only=True, allow_null=True)

    class Meta:
        model = ChurnRecord
        fields = [
            "id",
            "account",
            "account_external_id",
            "churn_type",
            "reason",
            "competitor",
            "comment",
            "mrr_lost",
            "churned_on",
            "source",
            "reactivated_on",
            "created_at",
        ]
        read_only_fields = fields


class CancelInputSerializer(serializers.Serializer):
    """A cancellation: the account's open subscriptions end on `effective_on` (default today) and why is recorded."""

    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    reason = serializers.SlugRelatedField(slug_field="code", queryset=ChurnReason.objects.filter(is_active=True))
    churn_type = serializers.ChoiceField(choices=ChurnType.choices, default=ChurnType.VOLUNTARY)
    competitor = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    effective_on = serializers.DateField(required=False, allow_null=True, default=None)


class PauseInputSerializer(serializers.Serializer):
    """Pause instead of cancel: the account's active subscriptions rest from `start_on` and resume on `resume_on`."""

    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    start_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Default today.")
    resume_on = serializers.DateField()
    reason = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ChurnReason.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="What made them want to leave (optional; kept on the timeline, no churn record).",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class PauseSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    start_on = serializers.DateField()
    resume_on = serializers.DateField()
    paused = serializers.IntegerField(help_text="How many subscriptions were paused.")


class ChurnRecordFilterSet(django_filters.FilterSet):
    reason = django_filters.CharFilter(field_name="reason__code")
    churned_after = django_filters.DateFilter(field_name="churned_on", lookup_expr="gte")
    churned_before = django_filters.DateFilter(field_name="churned_on", lookup_expr="lt")
    won_back = django_filters.BooleanFilter(field_name="won_back_on", lookup_expr="isnull", exclude=True)

    class Meta:
        model = ChurnRecord
        fields = ["account", "churn_type", "source"]


class ChurnReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """The configurable churn-reason taxonomy (top-level reasons and their children)."""

    queryset = selectors.active_reasons()
    serializer_class = ChurnReasonSerializer
    lookup_field = "code"
    pagination_class = None


@extend_schema_view(
    create=extend_schema(
        request=CancelInputSerializer,
        responses={
            201: ChurnRecordSerializer,
            400: OpenApiResponse(description="Invalid input, one message per field."),
            403: OpenApiResponse(description="You may not edit this account."),
        },
        description="Cancel an account: its open subscriptions end on the effective date and a churn record keeps "
        "type, reason, competitor, comment and MRR lost. Idempotent per account and day.",
    )
)
class ChurnRecordViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Departures: how (voluntary / involuntary / downgrade), why (reason code), MRR lost, and whether won back."""

    serializer_class = ChurnRecordSerializer
    filterset_class = ChurnRecordFilterSet
    ordering_fields = ["churned_on", "mrr_lost", "id"]

    def get_queryset(self):
        return selectors.churn_records().order_by("-churned_on", "-id")

    def create(self, request, *args, **kwargs):
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # API keys act as the system (their scope was checked); signed-in users act as themselves.
        actor = request.user if isinstance(request.user, get_user_model()) else None
        try:
            record = services.account_cancel(
                account=values["account"],
                reason_code=values["reason"].code,
                churn_type=values["churn_type"],
                competitor=values["competitor"],
                comment=values["comment"],
                effective_on=values["effective_on"],
                actor=actor,
                source="api",
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except ValueError as exc:
            raise exceptions.ValidationError({"reason": [str(exc)]}) from exc
        record = get_object_or_404(self.get_queryset(), pk=record.pk)
        return Response(ChurnRecordSerializer(record).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(
        request=PauseInputSerializer,
        responses={
            201: PauseSerializer,
            400: OpenApiResponse(description="Invalid input, one message per field."),
            403: OpenApiResponse(description="You may not edit this account."),
        },
        description="Pause an account instead of cancelling it: its active subscriptions carry no MRR from start_on "
        "and resume by themselves on resume_on. A pause is not churn: no churn record is written.",
    )
)
class PauseViewSet(viewsets.GenericViewSet):
    """Pauses (write only): pause instead of cancel."""

    serializer_class = PauseInputSerializer
    queryset = Account.objects.none()

    def create(self, request, *args, **kwargs):
        data = PauseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = request.user if isinstance(request.user, get_user_model()) else None
        start_on = values["start_on"] or timezone.localdate()
        try:
            paused = services.account_pause(
                account=values["account"],
                start_on=start_on,
                resume_on=values["resume_on"],
                reason_code=values["reason"].code if values["reason"] else "",
                comment=values["comment"],
                actor=actor,
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except ValueError as exc:
            raise exceptions.ValidationError({"resume_on": [str(exc)]}) from exc
        out = {
            "account": values["account"].pk,
            "start_on": start_on,
            "resume_on": values["resume_on"],
            "paused": paused,
        }
        return Response(PauseSerializer(out).data, status=status.HTTP_201_CREATED)


class CampaignKpiSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="campaign.pk")
    name = serializers.CharField(source="campaign.name")
    offer = serializers.CharField(source="campaign.offer")
    enrolled = serializers.IntegerField()
    contacted = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    reactivated = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Reactivated ÷ contacted, in percent.")
    mrr_won_back = serializers.DecimalField(max_digits=14, decimal_places=2)


class CampaignViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    """Win-back campaigns with their KPIs: enrolled, contacted, reactivated count and rate, MRR won back."""

    serializer_class = CampaignKpiSerializer
    queryset = Campaign.objects.all()
    filterset_class = None
    pagination_class = None

    def list(self, request, *args, **kwargs):
        return Response(CampaignKpiSerializer(selectors.campaign_kpis(), many=True).data)


class SurveyInvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyInvitation
        fields = ["id", "account", "contact", "kind", "created_at", "sent_at", "reminded_at", "expires_at",
                  "responded_at", "response", "email_status"]  # fmt: skip
        read_only_fields = fields


class SurveyInvitationCreatedSerializer(SurveyInvitationSerializer):
    url = serializers.SerializerMethodField(help_text="The public, single-use answer link (a credential: keep it).")

    class Meta(SurveyInvitationSerializer.Meta):
        fields = [*SurveyInvitationSerializer.Meta.fields, "url"]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return survey_url(obj)


class SurveyInviteInputSerializer(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    kind = serializers.ChoiceField(choices=[("nps", "NPS"), ("csat", "CSAT")])
    send_email = serializers.BooleanField(default=True, help_text="False: only create the link (send it yourself).")


@extend_schema_view(
    create=extend_schema(
        request=SurveyInviteInputSerializer,
        responses={
            201: SurveyInvitationCreatedSerializer,
            400: OpenApiResponse(description="Invalid input, one message per field."),
            403: OpenApiResponse(description="You may not edit this account."),
            409: OpenApiResponse(description="The contact was surveyed within the fatigue window."),
        },
        description="Ask a contact for an NPS or CSAT answer: a single-use link, emailed unless send_email is false.",
    )
)
class SurveyInvitationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Survey invitations (the token is never listed; only the create response carries the link)."""

    serializer_class = SurveyInvitationSerializer
    filterset_fields = ["account", "contact", "kind"]

    def get_queryset(self):
        return selectors.survey_invitations()

    def create(self, request, *args, **kwargs):
        data = SurveyInviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = data.validated_data["contact"]
        if isinstance(request.user, get_user_model()) and not can_edit_account(request.user, contact.account):
            raise exceptions.PermissionDenied(_("You can only survey the accounts you own."))
        invitation = services.survey_invite(
            contact=contact, kind=data.validated_data["kind"], send=data.validated_data["send_email"]
        )
        if invitation is None:
            return Response(
                {"contact": [_("This contact was surveyed within the fatigue window.")]},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(SurveyInvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED)
