"""Health over the REST API: snapshots with their factor breakdown, profile versions, churn models and
predictions (ranked by expected revenue saved). Reads for every signed-in role; training for managers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from churnapp.roles import can_configure
from health import selectors
from health.models import ChurnModelVersion, ChurnPrediction, HealthProfileVersion, HealthSnapshot, ModelStatus


class HealthSnapshotSerializer(serializers.ModelSerializer):
    profile = serializers.CharField(source="version.profile.name", read_only=True)
    profile_version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = HealthSnapshot
        fields = ["id", "account", "day", "score", "band", "profile", "profile_version", "factors", "missing"]
        read_only_fields = fields


class HealthSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    """Daily health snapshots. `factors` maps each factor to [raw value, normalised 0–100, contribution in
    points]; `missing` lists factors without data whose weight was renormalised away. Filter with ?account=&day=."""

    serializer_class = HealthSnapshotSerializer
    filterset_fields = ["account", "day", "band"]
    ordering = ["-day", "account"]

    def get_queryset(self):
        return HealthSnapshot.objects.select_related("version__profile").order_by("-day", "account")


class ProfileVersionSerializer(serializers.ModelSerializer):
    profile = serializers.CharField(source="profile.name", read_only=True)
    segment = serializers.CharField(source="profile.segment", read_only=True)

    class Meta:
        model = HealthProfileVersion
        fields = ["id", "profile", "segment", "number", "status", "factors", "green_min", "yellow_min", "note",
                  "created_at", "published_at"]  # fmt: skip
        read_only_fields = fields


class HealthProfileVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Health profile versions (drafts, the published one per segment, archived ones)."""

    serializer_class = ProfileVersionSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        return HealthProfileVersion.objects.select_related("profile").order_by("profile__segment", "-number")


class ChurnModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChurnModelVersion
        fields = ["id", "created_at", "status", "horizon_days", "train_from", "train_to", "holdout_from",
                  "holdout_to", "n_train", "n_holdout", "metrics", "message"]  # fmt: skip
        read_only_fields = fields


class ChurnModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Trained churn models with their data window and holdout metrics (AUC, top-decile lift, Brier score,
    reliability table, profit curve). `current` is the promoted one; `train` (managers) queues a retrain."""

    serializer_class = ChurnModelSerializer

    def get_queryset(self):
        return ChurnModelVersion.objects.defer("artifact").order_by("-created_at")

    @action(detail=False, methods=["get"])
    def current(self, request):
        model = selectors.current_model()
        if model is None:
            failed = ChurnModelVersion.objects.filter(status=ModelStatus.FAILED).defer("artifact").first()
            reason = failed.message if failed else "No model has been trained yet."
            return Response({"detail": f"No churn model yet. {reason}"}, status=status.HTTP_404_NOT_FOUND)
        return Response(self.get_serializer(model).data)

    @extend_schema(request=None, responses={202: None})
    @action(detail=False, methods=["post"])
    def train(self, request):
        if not can_configure(request.user):
            raise PermissionDenied("Only managers and admins retrain the churn model.")
        from health.tasks import train_churn_model

        transaction.on_commit(lambda: train_churn_model.delay())
        return Response({"detail": "Training queued."}, status=status.HTTP_202_ACCEPTED)


class ChurnPredictionSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    owner = serializers.CharField(source="account.owner.email", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ChurnPrediction
        fields = ["account", "account_name", "owner", "day", "model", "probability", "mrr_at_risk",
                  "expected_saved", "drivers"]  # fmt: skip
        read_only_fields = fields


@extend_schema(parameters=[OpenApiParameter("mine", bool, description="Only the signed-in CSM's accounts")])
class ChurnPredictionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The latest day's churn predictions ranked by expected revenue saved
    (probability × MRR × value months × save rate − action cost), with each account's top drivers."""

    serializer_class = ChurnPredictionSerializer
    filter_backends: list = []

    def get_queryset(self):
        mine = self.request.query_params.get("mine") in ("1", "true", "yes")
        latest = ChurnPrediction.objects.order_by("-day").values_list("day", flat=True).first()
        qs = ChurnPrediction.objects.filter(day=latest).select_related("account__owner")
        if mine:
            # An API key belongs to no user, so it owns no accounts.
            user_id = getattr(self.request.user, "pk", None)
            qs = qs.filter(account__owner_id=user_id) if user_id else qs.none()
        return qs.order_by("-expected_saved", "account_id")
