"""Segment's HTTP Tracking API: POST /v1/identify, /v1/track, /v1/page, /v1/screen, /v1/group, /v1/alias and
/v1/batch.

Authentication is an API key with the `ingest` scope, sent as Segment sends its write key (the Basic-auth
username) or as a Bearer token. Bodies may be gzip-compressed (`Content-Encoding: gzip`); limits: 5 MB on the wire,
20 MB decompressed (413 above). The answer is 200 only once the events are committed to the database.
"""

from __future__ import annotations

from django.db import OperationalError
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tracking.ingest import RETRYABLE_PGCODES, tracking_ingest
from accounts.tracking.messages import InvalidMessage
from churnapp.authentication import HasApiKeyScope
from churnapp.models import ApiKey
from churnapp.parsers import BoundedJSONParser, PayloadTooLarge

MAX_BATCH_MESSAGES = 5000


class SegmentJSONParser(BoundedJSONParser):
    """The shared bounded JSON/gzip parser; NUL characters are reported per message instead (Segment semantics)."""

    reject_nul = False


class IsApiKey(BasePermission):
    message = gettext_lazy("The tracking API takes an API key with the ingest scope (the write key).")

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)


TRACKING_RESULT = inline_serializer(
    "TrackingResult",
    {
        "success": serializers.BooleanField(),
        "stored": serializers.IntegerField(help_text="New events stored."),
        "duplicates": serializers.IntegerField(help_text="Messages already received (same messageId)."),
        "pending": serializers.IntegerField(help_text="Kept until their account is known."),
        "errors": serializers.ListField(
            child=serializers.DictField(), help_text="Invalid messages: {index, reason}; the others were stored."
        ),
    },
)
MESSAGE = inline_serializer(
    "SegmentMessage",
    {
        "type": serializers.CharField(required=False),
        "userId": serializers.CharField(required=False),
        "anonymousId": serializers.CharField(required=False),
        "event": serializers.CharField(required=False),
        "groupId": serializers.CharField(required=False),
        "previousId": serializers.CharField(required=False, help_text="alias: the former or anonymous id."),
        "name": serializers.CharField(required=False, help_text="page / screen: its name."),
        "messageId": serializers.CharField(required=False),
        "timestamp": serializers.DateTimeField(required=False),
        "sentAt": serializers.DateTimeField(required=False),
        "properties": serializers.DictField(required=False),
        "traits": serializers.DictField(required=False),
        "context": serializers.DictField(required=False),
    },
)
BATCH = inline_serializer(
    "SegmentBatch",
    {
        "batch": serializers.ListField(child=MESSAGE),
        "sentAt": serializers.DateTimeField(required=False),
        "writeKey": serializers.CharField(required=False),
    },
)
RESPONSES = {
    200: TRACKING_RESULT,
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="No valid message (a TrackingResult with the reason of each by index), or a malformed body "
        "(`detail`).",
    ),
    503: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="The database rolled the batch back (deadlock) on every attempt: nothing was stored; retry "
        "after the `Retry-After` seconds.",
    ),
}


class _TrackingView(APIView):
    parser_classes = [SegmentJSONParser]
    permission_classes = [IsAuthenticated, IsApiKey, HasApiKeyScope]
    api_key_scopes = ("ingest",)
    message_type = ""

    def _messages(self, data) -> tuple[list, object]:
        if not isinstance(data, dict):
            raise exceptions.ParseError(_("The body must be a JSON object."))
        return [data], data.get("sentAt")

    def post(self, request):
        messages, sent_at = self._messages(request.data)
        try:
            result = tracking_ingest(
                messages=messages, received_at=timezone.now(), sent_at=sent_at, default_type=self.message_type
            )
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) not in RETRYABLE_PGCODES:
                raise
            # Rolled back by the database every time (nothing stored): the sender retries, as Segment's clients do.
            body = {"success": False, "errors": [{"index": None, "reason": _("Busy: nothing was stored, retry.")}]}
            return Response(body, status=503, headers={"Retry-After": "1"})
        except InvalidMessage as exc:
            body = {
                "success": False,
                "stored": 0,
                "duplicates": 0,
                "pending": 0,
                "errors": [{"index": None, "reason": str(exc)}],
            }
            return Response(body, status=400)
        body = {
            "success": not result.errors,
            "stored": result.stored,
            "duplicates": result.duplicates,
            "pending": result.pending,
            "errors": result.errors,
        }
        return Response(body, status=200 if result.valid or not result.errors else 400)


def _single(message_type: str, summary: str):
    view = type(
        f"{message_type.capitalize()}View",
        (_TrackingView,),
        {"message_type": message_type, "__doc__": summary},
    )
    view.post = extend_schema(summary=summary, request=MESSAGE, responses=RESPONSES, tags=["tracking"])(view.post)
    return view


class BatchView(_TrackingView):
    """Several messages at once (what Segment's libraries send): invalid ones are reported by index."""

    def _messages(self, data) -> tuple[list, object]:
        if not isinstance(data, dict) or not isinstance(data.get("batch"), list):
            raise exceptions.ParseError(_('The body must be {"batch": [messages…]}.'))
        if len(data["batch"]) > MAX_BATCH_MESSAGES:
            raise PayloadTooLarge(_("At most %(n)s messages per batch.") % {"n": MAX_BATCH_MESSAGES})
        return data["batch"], data.get("sentAt")

    @extend_schema(summary="Batch of messages", request=BATCH, responses=RESPONSES, tags=["tracking"])
    def post(self, request):
        return super().post(request)


IdentifyView = _single("identify", "Identify a user: traits update the contact.")
TrackView = _single("track", "Track an event of a user (account from context.groupId or the user's contact).")
PageView = _single("page", "A page view (stored as event type page:<name>).")
ScreenView = _single("screen", "A screen view (stored as event type screen:<name>).")
GroupView = _single("group", "Link a user to an account (groupId = account external id); traits update it.")
AliasView = _single("alias", "Alias previousId to userId: messages under either id reach the same contact.")

urlpatterns = [
    path("identify", IdentifyView.as_view(), name="tracking-identify"),
    path("track", TrackView.as_view(), name="tracking-track"),
    path("page", PageView.as_view(), name="tracking-page"),
    path("screen", ScreenView.as_view(), name="tracking-screen"),
    path("group", GroupView.as_view(), name="tracking-group"),
    path("alias", AliasView.as_view(), name="tracking-alias"),
    path("batch", BatchView.as_view(), name="tracking-batch"),
]
