"""Data-subject requests over the API, for admins and `admin`-scope keys only:

- `POST /api/v1/privacy/erasures/` with `{"contact": id}` or `{"account": id}` erases and answers the summary;
- `GET /api/v1/privacy/exports/contact/{id}/` and `…/account/{id}/` stream the export bundle.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.base import actor_of
from churnapp.openapi import DETAIL_ERROR, VALIDATION_ERROR
from churnapp.parsers import BoundedJSONParser
from churnapp.roles import require_admin
from privacy import selectors, services
from privacy.subjects import MAX_PK

DOOR = "api"
ADMIN_ONLY = OpenApiResponse(
    DETAIL_ERROR, description="Only admins and API keys with the `admin` scope make these requests."
)
NOT_FOUND = OpenApiResponse(DETAIL_ERROR, description="No contact or account with this id.")


class ErasureInputSerializer(serializers.Serializer):
    contact = serializers.IntegerField(min_value=1, max_value=MAX_PK, required=False, help_text="A contact's id.")
    account = serializers.IntegerField(min_value=1, max_value=MAX_PK, required=False, help_text="An account's id.")

    def validate(self, attrs):
        if len(attrs) != 1:
            message = _("Give exactly one of contact and account.")
            raise serializers.ValidationError({"non_field_errors": [message]})
        return attrs


class ErasureSummarySerializer(serializers.Serializer):
    subject = serializers.ChoiceField(choices=[selectors.CONTACT, selectors.ACCOUNT])
    id = serializers.IntegerField(help_text="The contact's or account's id (both rows stay, anonymised).")
    account = serializers.IntegerField()
    erased_at = serializers.DateTimeField()
    rows = serializers.IntegerField(help_text="Rows (and import files) scrubbed in all.")
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows scrubbed per place (app_label.Model); files for imports."
    )


class ExportBundleSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    subject = serializers.DictField(help_text='{"kind": "contact" or "account", "id": …, "account": …}')
    places = serializers.ListField(child=serializers.CharField(), help_text="The places the bundle includes.")
    data = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="Per place, every stored field of every row about the subject.",
    )


def _not_found(kind: str, pk: int) -> str:
    text = _("No contact with id %(id)s.") if kind == selectors.CONTACT else _("No account with id %(id)s.")
    return text % {"id": pk}


class ErasureApi(APIView):
    """Erase a contact's or an account's personal data everywhere it lives, in one transaction; aggregate facts
    (counts, MRR history, scores, dates) stay, so every KPI is the same before and after."""

    api_key_scopes = ("admin",)
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        request=ErasureInputSerializer,
        responses={
            201: ErasureSummarySerializer,
            400: OpenApiResponse(VALIDATION_ERROR, description="Invalid input, one message per field."),
            403: ADMIN_ONLY,
            404: NOT_FOUND,
            409: OpenApiResponse(
                DETAIL_ERROR, description="An import is still reading a file about them: retry once it has finished."
            ),
        },
        tags=["privacy"],
    )
    def post(self, request, *args, **kwargs):
        require_admin(request.user)
        data = request.data if isinstance(request.data, dict) else {}
        params = ErasureInputSerializer(data=data)
        params.is_valid(raise_exception=True)
        kind, pk = next(iter(params.validated_data.items()))
        obj = selectors.subject_object(kind, pk)
        if obj is None:
            raise exceptions.NotFound(_not_found(kind, pk))
        erase = services.erase_contact if kind == selectors.CONTACT else services.erase_account
        try:
            summary = erase(**{kind: obj}, actor=actor_of(request), door=DOOR)
        except services.ErasureRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ErasureSummarySerializer(summary.as_dict()).data, status=status.HTTP_201_CREATED)


class ExportApi(APIView):
    """Everything held about a contact or an account, as one JSON bundle, streamed."""

    api_key_scopes = ("admin",)
    kind = ""

    @extend_schema(
        responses={
            (200, "application/json"): ExportBundleSerializer,
            403: ADMIN_ONLY,
            404: NOT_FOUND,
        },
        tags=["privacy"],
    )
    def get(self, request, pk: int, *args, **kwargs):
        require_admin(request.user)
        obj = selectors.subject_object(self.kind, pk)
        if obj is None:
            raise exceptions.NotFound(_not_found(self.kind, pk))
        subject = selectors.subject_for(obj)
        response = StreamingHttpResponse(selectors.export_chunks(subject), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{selectors.export_filename(subject)}"'
        return response


class ContactExportApi(ExportApi):
    kind = selectors.CONTACT


class AccountExportApi(ExportApi):
    kind = selectors.ACCOUNT
