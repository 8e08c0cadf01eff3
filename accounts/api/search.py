"""Search across everything over the API: the same ranking as the top bar's search box (accounts.search)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.search import KINDS, MIN_LENGTH, clean_query, search_everything


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    account_id = serializers.IntegerField()
    url = serializers.CharField(help_text="The page of the hit's account in the web app.")


class SearchGroupSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=[k.key for k in KINDS])
    label = serializers.CharField()
    results = SearchHitSerializer(many=True)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text=f"At least {MIN_LENGTH} characters.")
    kind = serializers.MultipleChoiceField(choices=[k.key for k in KINDS], required=False)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class SearchApi(APIView):
    """Accounts (name, domain, id), contacts (name, email), tickets (subject), notes and tasks matching `q`,
    grouped by kind, best first. On PostgreSQL a name with a typo still matches (trigram similarity)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="What to look for (3–100 characters)."),
            OpenApiParameter("kind", str, many=True, enum=[k.key for k in KINDS], description="Only these kinds."),
            OpenApiParameter("limit", int, description="Hits per kind (1–50, default 10)."),
        ],
        responses={200: SearchGroupSerializer(many=True)},
        tags=["search"],
    )
    def get(self, request, *args, **kwargs):
        params = SearchQuerySerializer(
            data={
                "q": request.query_params.get("q", ""),
                "kind": request.query_params.getlist("kind"),
                "limit": request.query_params.get("limit", 10),
            }  # fmt: skip
        )
        params.is_valid(raise_exception=True)
        q = clean_query(params.validated_data["q"])
        if len(q) < MIN_LENGTH:
            raise ValidationError({"q": [f"Type at least {MIN_LENGTH} characters."]})
        kinds = tuple(params.validated_data.get("kind") or ()) or None
        groups = search_everything(q=q, limit=params.validated_data["limit"], kinds=kinds)
        return Response(SearchGroupSerializer(groups, many=True).data)
