"""Health profiles over the API: list and create profiles, read their versions, edit the one draft, preview it
and publish it — through `health.services` (profile_create, profile_draft_get_or_create, profile_draft_update,
profile_publish) and `health.selectors.profiles.profile_preview`, as the profile editor does.

A profile is looked up by its segment; the default profile (for every segment without its own) is `default`.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Segment
from configuration.api.base import TAGS, ConfigViewSet, refusals
from health import scoring, services
from health.models import HealthProfile, HealthProfileVersion
from health.selectors.profiles import draft_of, profile_preview, profile_versions, profiles, published_of

DEFAULT = "default"
_FACTORS_HELP = (
    'Each factor: {"key", "weight", "method": "thresholds", "points": [[value, score], …]} or {"key", "weight", '
    '"method": "percentile", "higher_is_better": true}.'
)


def key_of(profile: HealthProfile) -> str:
    return profile.segment or DEFAULT


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthProfileVersion
        fields = ["number", "status", "factors", "green_min", "yellow_min", "note", "created_at", "published_at"]
        read_only_fields = fields


class ProfileSerializer(serializers.ModelSerializer):
    key = serializers.SerializerMethodField(help_text="The segment, or `default` for the default profile.")
    segment = serializers.CharField(read_only=True, help_text="The segment it scores; empty for the default profile.")
    published = serializers.SerializerMethodField()
    draft = serializers.SerializerMethodField()

    class Meta:
        model = HealthProfile
        fields = ["key", "name", "segment", "created_at", "published", "draft"]
        read_only_fields = fields

    def get_key(self, profile: HealthProfile) -> str:
        return key_of(profile)

    def _version(self, profile: HealthProfile, status_: str) -> dict | None:
        version = next((v for v in profile.versions.all() if v.status == status_), None)
        return VersionSerializer(version).data if version else None

    @extend_schema_field(VersionSerializer(allow_null=True))
    def get_published(self, profile: HealthProfile) -> dict | None:
        return self._version(profile, "published")

    @extend_schema_field(VersionSerializer(allow_null=True))
    def get_draft(self, profile: HealthProfile) -> dict | None:
        return self._version(profile, "draft")


class ProfileCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    segment = serializers.ChoiceField(
        choices=Segment.choices, help_text="The segment it scores (the default profile exists already)."
    )


class DraftSerializer(serializers.Serializer):
    factors = serializers.ListField(child=serializers.DictField(), help_text=_FACTORS_HELP)
    green_min = serializers.IntegerField(min_value=0, max_value=100, help_text="Green from this score up.")
    yellow_min = serializers.IntegerField(min_value=0, max_value=100, help_text="Yellow from this score up.")
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class PreviewInputSerializer(serializers.Serializer):
    factors = serializers.ListField(child=serializers.DictField(), required=False, help_text=_FACTORS_HELP)
    green_min = serializers.IntegerField(min_value=0, max_value=100, required=False)
    yellow_min = serializers.IntegerField(min_value=0, max_value=100, required=False)


MoverSerializer = type(
    "MoverSerializer",
    (serializers.Serializer,),
    {
        "account_id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "from": serializers.CharField(help_text="The band now."),
        "to": serializers.CharField(help_text="The band if published."),
        "score": serializers.IntegerField(allow_null=True),
    },
)


class PreviewSerializer(serializers.Serializer):
    day = serializers.DateField(allow_null=True, help_text="The day of the stored metrics scored.")
    n = serializers.IntegerField(help_text="Accounts the profile scores.")
    after = serializers.DictField(child=serializers.IntegerField(), required=False, help_text="Accounts per band.")
    before = serializers.DictField(child=serializers.IntegerField(), required=False)
    after_pct = serializers.DictField(child=serializers.FloatField(), required=False)
    before_pct = serializers.DictField(child=serializers.FloatField(), required=False)
    changed = serializers.IntegerField(required=False, help_text="Accounts that would change band.")
    movers = MoverSerializer(many=True, required=False, help_text="Some of them, red first.")


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Health profiles with their published version and draft"),
    retrieve=extend_schema(tags=TAGS, summary="A health profile, by segment (`default`)"),
)
class HealthProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ConfigViewSet):
    """Health profiles: one per segment plus the default. A manager edits the one draft, previews it (the bands
    it would give today's accounts) and publishes it; published versions never change."""

    serializer_class = ProfileSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return profiles()

    def get_object(self) -> HealthProfile:
        key = self.kwargs["key"]
        segment = "" if key == DEFAULT else key
        profile = self.get_queryset().filter(segment=segment).first() if segment in ("", *Segment.values) else None
        if profile is None:
            raise Http404(_("No health profile for %(key)r.") % {"key": key})
        return profile

    @extend_schema(tags=TAGS, summary="Create a profile for a segment (a draft copied from the default)",
                   request=ProfileCreateSerializer, responses={201: ProfileSerializer})  # fmt: skip
    def create(self, request, *args, **kwargs):
        data = ProfileCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refusals("segment"):
            profile = services.profile_create(**data.validated_data, actor=self.get_serializer_context()["actor"])
        profile = self.get_queryset().get(pk=profile.pk)
        return Response(ProfileSerializer(profile).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS, summary="Every version of a profile, newest first", responses=VersionSerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    def versions(self, request, key: str):
        return Response(VersionSerializer(profile_versions(profile=self.get_object()), many=True).data)

    @extend_schema(methods=["get"], tags=TAGS, summary="The profile's draft", responses={200: VersionSerializer})
    @extend_schema(
        methods=["put"],
        tags=TAGS,
        summary="Save the draft (made from the published version when there is none)",
        request=DraftSerializer,
        responses={200: VersionSerializer},
    )
    @action(detail=True, methods=["get", "put"])
    def draft(self, request, key: str):
        profile = self.get_object()
        if request.method == "GET":
            draft = draft_of(profile=profile)
            if draft is None:
                raise Http404(_("This profile has no draft."))
            return Response(VersionSerializer(draft).data)
        data = DraftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = self.get_serializer_context()["actor"]
        with refusals("factors"):
            draft = services.profile_draft_get_or_create(profile=profile, actor=actor)
            draft = services.profile_draft_update(draft=draft, **data.validated_data, actor=actor)
        return Response(VersionSerializer(draft).data)

    @extend_schema(
        tags=TAGS,
        summary="What the draft (or the values given) would do if published now",
        request=PreviewInputSerializer,
        responses={200: PreviewSerializer},
        description="The band distribution of the accounts the profile scores, before and after, and the accounts "
        "that would change band. Values left out are the draft's (or the published version's). Nothing is saved.",
    )
    @action(detail=True, methods=["post"])
    def preview(self, request, key: str):
        profile = self.get_object()
        data = PreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shown = draft_of(profile=profile) or published_of(profile=profile)
        values = {"factors": shown.factors if shown else [], "green_min": 70, "yellow_min": 40}
        if shown:
            values.update(green_min=shown.green_min, yellow_min=shown.yellow_min)
        values.update(data.validated_data)
        with refusals("factors"):
            errors = scoring.validate_profile(values["factors"], values["green_min"], values["yellow_min"])
            if errors:
                raise serializers.ValidationError({"factors": errors})
            bands = scoring.Bands(values["green_min"], values["yellow_min"])
            preview = profile_preview(profile=profile, factors=values["factors"], bands=bands)
        return Response(PreviewSerializer(preview).data)

    @extend_schema(
        tags=TAGS,
        summary="Publish the draft (the published version is archived; scores are recomputed)",
        request=None,
        responses={200: VersionSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, key: str):
        profile = self.get_object()
        draft = draft_of(profile=profile)
        if draft is None:
            raise Http404(_("This profile has no draft."))
        with refusals("factors"):
            version = services.profile_publish(draft=draft, actor=self.get_serializer_context()["actor"])
        return Response(VersionSerializer(version).data)
