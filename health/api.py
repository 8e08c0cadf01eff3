"""Health over the REST API: snapshots with their factor breakdown, profile versions, churn models and
predictions (ranked by expected revenue saved). Reads for every signed-in role; training for managers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from churnapp.roles import can_configure
from health import conf, services
from health.models import (
    ChurnLabRun,
    ChurnModelVersion,
    ChurnPrediction,
    HealthProfileVersion,
    HealthSnapshot,
)
from health.selectors.bands import snapshots
from health.selectors.churn_model import churn_models, current_model, lab_runs, last_failed_model, latest_predictions
from health.selectors.profiles import all_profile_versions
from health.tasks import train_churn_model


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
        return snapshots()


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
        return all_profile_versions()


class ChurnModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChurnModelVersion
        fields = ["id", "created_at", "status", "horizon_days", "train_from", "train_to", "holdout_from",
                  "holdout_to", "n_train", "n_holdout", "metrics", "message"]  # fmt: skip
        read_only_fields = fields


class LabRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChurnLabRun
        fields = ["id", "created_at", "status", "train_until", "test_from", "test_until", "horizon_days", "as_of",
                  "results", "message", "finished_at"]  # fmt: skip
        read_only_fields = fields


class LabRunInputSerializer(serializers.Serializer):
    train_until = serializers.DateField(help_text="Training uses observations dated before this day.")
    test_from = serializers.DateField(help_text="First observation date of the test period.")
    test_until = serializers.DateField(help_text="Last observation date of the test period (inclusive).")
    horizon_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    as_of = serializers.DateField(required=False, allow_null=True, help_text="Evaluate as if today were this day.")


class ChurnModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Trained churn models with their data window and holdout metrics (AUC, top-decile lift, Brier score,
    ECE, reliability table, profit curve) and, in `metrics.lab`, the rolling-origin backtest of every candidate
    per cutoff (the `baseline` row is the one to beat), `metrics.lead_time` (AUC by horizon) and
    `metrics.recommendation` (the profit curve's advice). `current` is the promoted one; `train` (managers)
    queues a retrain; `lab-runs` evaluates every candidate on a chosen split."""

    serializer_class = ChurnModelSerializer

    def get_queryset(self):
        return churn_models()

    @action(detail=False, methods=["get"])
    def current(self, request):
        model = current_model()
        if model is None:
            failed = last_failed_model()
            reason = failed.message if failed else _("No model has been trained yet.")
            detail = _("No churn model yet. %(reason)s") % {"reason": reason}
            return Response({"detail": detail}, status=status.HTTP_404_NOT_FOUND)
        return Response(self.get_serializer(model).data)

    @extend_schema(request=None, responses={202: None})
    @action(detail=False, methods=["post"])
    def train(self, request):
        if not can_configure(request.user):
            raise PermissionDenied(_("Only managers and admins retrain the churn model."))

        transaction.on_commit(lambda: train_churn_model.delay())
        return Response({"detail": _("Training queued.")}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(methods=["get"], responses={200: LabRunSerializer(many=True)}, description="The latest 50 lab runs.")
    @extend_schema(
        methods=["post"],
        request=LabRunInputSerializer,
        responses={202: LabRunSerializer},
        description="Queue an evaluation of every candidate (baseline included) trained on the observations "
        "before `train_until` whose label was known by `test_from`, scored on those dated `test_from`…"
        "`test_until`, as if today were `as_of`. Managers and admins.",
    )
    @action(detail=False, methods=["get", "post"], url_path="lab-runs", pagination_class=None)
    def lab_runs(self, request):
        if request.method == "GET":
            return Response(LabRunSerializer(lab_runs(limit=50), many=True).data)
        if not can_configure(request.user):
            raise PermissionDenied(_("Only managers and admins run the churn model lab."))
        data = LabRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {"horizon_days": conf.get("CHURN_HORIZON_DAYS"), **data.validated_data}
        try:
            run = services.lab_run_request(**values, actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc
        return Response(LabRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: LabRunSerializer})
    @action(detail=False, methods=["get"], url_path=r"lab-runs/(?P<run_id>[0-9]+)", pagination_class=None)
    def lab_run(self, request, run_id: str):
        run = lab_runs(limit=None).filter(pk=int(run_id)).first()
        if run is None:
            raise exceptions.NotFound(_("No such lab run."))
        return Response(LabRunSerializer(run).data)


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
        return latest_predictions(owner_id=getattr(self.request.user, "pk", None), mine=mine)
