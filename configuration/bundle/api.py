"""The configuration bundle over the API, for admins and `config` (or `admin`) API keys:

- `GET /api/v1/config/bundle/` exports it (JSON, or YAML with `Accept: application/yaml` or `?format=yaml`);
- `POST /api/v1/config/bundle/plan/` and `…/apply/` take a bundle (JSON or YAML body; `?prune=true` deletes what
  it leaves out) and answer the plan: what would change, or what changed;
- `GET /api/v1/config/bundle/schema.json` is the bundle's JSON Schema, for editors.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from churnapp.authentication import HasApiKeyScope
from churnapp.openapi import DETAIL_ERROR, VALIDATION_ERROR
from churnapp.parsers import BoundedJSONParser, read_body
from configuration import bundle
from configuration.api.base import AdminPermission, actor_of

TAGS = ["configuration"]
BUNDLE_BODY = {
    "type": "object",
    "description": "A configuration bundle: `version` and one list per section; its JSON Schema is served at "
    "/api/v1/config/bundle/schema.json.",
    "additionalProperties": True,
}
INVALID = OpenApiResponse(
    VALIDATION_ERROR, description='The bundle cannot be applied: `{"bundle": ["<object> <field>: <why>"]}`.'
)
PRUNE = OpenApiParameter(
    "prune", OpenApiTypes.BOOL, description="Also delete the objects the bundle leaves out.", required=False
)


class YamlRenderer(BaseRenderer):
    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return bundle.dump(data).encode("utf-8")


class YamlParser(BaseParser):
    """A YAML body (bounded like every body), read as a bundle: not YAML is a 400."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return bundle.parse(read_body(stream, parser_context["request"]))
        except bundle.BundleInvalid as exc:
            raise exceptions.ParseError(str(exc)) from exc


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field, with its path inside nested values (`steps[2].config.days`).")
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class EntrySerializer(serializers.Serializer):
    section = serializers.CharField(help_text="e.g. rules, playbooks, email_templates.")
    key = serializers.CharField(help_text="The object's stable key.")
    action = serializers.ChoiceField(choices=["create", "change", "delete"])
    changes = ChangeSerializer(many=True, help_text="For a change: each field, old → new.")


class PlanSerializer(serializers.Serializer):
    empty = serializers.BooleanField(help_text="Nothing to change: the configuration already matches.")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="create, change and delete counts.")
    entries = EntrySerializer(many=True)
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="After apply: the signing secrets of new webhook endpoints, once."
    )


class BundleView(APIView):
    api_key_scopes = ("config",)
    permission_classes = [IsAuthenticated, HasApiKeyScope, AdminPermission]


class BundleExportApi(BundleView):
    renderer_classes = [JSONRenderer, YamlRenderer]

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(BUNDLE_BODY, description="Every configuration object."),
            (200, "application/yaml"): OpenApiResponse(BUNDLE_BODY, description="The same, as YAML."),
            404: OpenApiResponse(DETAIL_ERROR, description="An unknown `format`."),
        },
        parameters=[
            OpenApiParameter(
                "format", str, enum=["json", "yaml"], required=False, description="json (default) or yaml."
            )
        ],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        """Export every configuration object: the bundle `manage.py config export` writes."""
        return Response(bundle.export_bundle())


class BundleSchemaApi(APIView):
    """The bundle's JSON Schema (draft 2020-12), served like the API's own schema (any signed-in user or key)."""

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A JSON Schema.")}, tags=TAGS)
    def get(self, request, *args, **kwargs):
        return Response(bundle.bundle_schema())


class _BundleWrite(BundleView):
    parser_classes = [BoundedJSONParser, YamlParser]

    def _bundle_and_prune(self, request):
        raw = request.query_params.get("prune", "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise exceptions.ValidationError({"prune": ["true or false."]})
        return request.data, raw in ("true", "1")

    def _invalid(self, exc: bundle.BundleInvalid) -> Response:
        return Response({"bundle": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)


class BundlePlanApi(_BundleWrite):
    @extend_schema(
        request={"application/json": BUNDLE_BODY, "application/yaml": BUNDLE_BODY},
        parameters=[PRUNE],
        responses={200: PlanSerializer, 400: INVALID},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        """What applying the bundle would create, change (field by field) and delete (with prune); writes nothing."""
        data, prune = self._bundle_and_prune(request)
        try:
            result = bundle.plan(data, prune=prune)
        except bundle.BundleInvalid as exc:
            return self._invalid(exc)
        return Response(PlanSerializer(result.as_dict()).data)


class BundleApplyApi(_BundleWrite):
    @extend_schema(
        request={"application/json": BUNDLE_BODY, "application/yaml": BUNDLE_BODY},
        parameters=[PRUNE],
        responses={200: PlanSerializer, 400: INVALID},
        tags=TAGS,
    )
    def post(self, request, *args, **kwargs):
        """Apply the bundle, all or nothing; applying the same bundle again changes nothing. Answers what changed."""
        data, prune = self._bundle_and_prune(request)
        try:
            result = bundle.apply(data, prune=prune, actor=actor_of(request))
        except bundle.BundleInvalid as exc:
            return self._invalid(exc)
        return Response(PlanSerializer(result.as_dict()).data)
