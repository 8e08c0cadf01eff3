"""The churn model's versions, backtests and lab runs, and today's predictions ranked by expected revenue saved."""

from __future__ import annotations

from django.db.models import QuerySet

from health.models import ChurnLabRun, ChurnModelVersion, ChurnPrediction, ModelStatus


def current_model() -> ChurnModelVersion | None:
    return ChurnModelVersion.objects.filter(status=ModelStatus.PROMOTED).first()


def latest_backtest() -> ChurnModelVersion | None:
    """The newest trained version that carries a rolling-origin backtest of the candidates."""
    return (
        ChurnModelVersion.objects.defer("artifact")
        .exclude(status=ModelStatus.FAILED)
        .filter(metrics__has_key="lab")
        .order_by("-created_at")
        .first()
    )


def churn_models() -> QuerySet[ChurnModelVersion]:
    """Every trained version, newest first, without its pickled artifact."""
    return ChurnModelVersion.objects.defer("artifact").order_by("-created_at")


def model_versions(limit: int = 20) -> list[ChurnModelVersion]:
    return list(churn_models()[:limit])


def last_failed_model() -> ChurnModelVersion | None:
    """The newest failed training, whose message says why there is no model yet."""
    return churn_models().filter(status=ModelStatus.FAILED).first()


def priorities(*, owner=None, limit: int | None = None) -> QuerySet[ChurnPrediction]:
    """Today's (latest) predictions ranked by expected revenue saved; `owner` narrows to one CSM's book."""
    latest = ChurnPrediction.objects.order_by("-day").values_list("day", flat=True).first()
    qs = ChurnPrediction.objects.filter(day=latest).select_related("account__owner", "model")
    if owner is not None:
        qs = qs.filter(account__owner=owner)
    qs = qs.order_by("-expected_saved", "account_id")
    return qs[:limit] if limit is not None else qs


def lab_runs(*, limit: int | None = 10) -> QuerySet:
    """Churn-model lab runs, newest first."""
    runs = ChurnLabRun.objects.order_by("-created_at", "-pk")
    return runs if limit is None else runs[:limit]


def latest_predictions(*, owner_id: int | None = None, mine: bool = False) -> QuerySet[ChurnPrediction]:
    """The latest day's predictions ranked by expected revenue saved; `mine` keeps the owner's accounts only (no
    owner, e.g. an API key, owns none)."""
    latest = ChurnPrediction.objects.order_by("-day").values_list("day", flat=True).first()
    qs = ChurnPrediction.objects.filter(day=latest).select_related("account__owner")
    if mine:
        qs = qs.filter(account__owner_id=owner_id) if owner_id else qs.none()
    return qs.order_by("-expected_saved", "account_id")
