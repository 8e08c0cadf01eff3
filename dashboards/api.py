"""KPIs over the REST API: `GET /api/v1/kpis/<name>/` and `GET /api/v1/kpis/<name>/series/`.

One documented endpoint per KPI (its own response keys in the schema), all computed by `dashboards.catalog`, the
code the dashboard uses. Authentication and permissions are DRF's defaults (session or API key, read scope).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from churnapp.money import currency
from dashboards.catalog import KPIS, Kpi, kpi_series, kpi_value
from dashboards.params import series_serializer
from dashboards.selectors import shared_reads

RATE = {"allow_null": True, "help_text": "A fraction (0.05 = 5 %); null when its denominator is zero."}
MONEY = {"allow_null": True, "help_text": f"In the reporting currency ({currency()}), two decimals."}


def _rate(text: str = "") -> serializers.FloatField:
    return serializers.FloatField(**{**RATE, "help_text": f"{text} {RATE['help_text']}".strip()})


class MoneyField(serializers.FloatField):
    """An amount in the reporting currency: what CSV exports mark with a `currency` column."""


def _money(text: str = "") -> MoneyField:
    return MoneyField(**{**MONEY, "help_text": f"{text} {MONEY['help_text']}".strip()})


def _count(text: str = "") -> serializers.IntegerField:
    return serializers.IntegerField(help_text=text)


def _score(text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=f"{text} Null when there is no response.")


class _Row(serializers.Serializer):
    reasons = serializers.DictField(
        child=serializers.CharField(), help_text="Why a key is null (its denominator is zero), by key."
    )


class _PeriodRow(_Row):
    start = serializers.DateField()
    end = serializers.DateField()


class CohortRowSerializer(serializers.Serializer):
    cohort = serializers.CharField(help_text="YYYY-MM: the month of the accounts' first subscription.")
    n_accounts = serializers.IntegerField()
    active = serializers.ListField(child=serializers.IntegerField(), help_text="Accounts active k months later.")
    retention = serializers.ListField(
        child=serializers.FloatField(allow_null=True), help_text="active[k] ÷ n_accounts."
    )


class HealthBandSerializer(serializers.Serializer):
    band = serializers.ChoiceField(choices=["green", "yellow", "red", "unscored"])
    label = serializers.CharField()
    n_accounts = serializers.IntegerField()
    mrr = serializers.FloatField()


class OwnerWorkloadSerializer(serializers.Serializer):
    owner_id = serializers.IntegerField(allow_null=True, help_text="Null: accounts without an owner.")
    owner = serializers.CharField()
    n_accounts = serializers.IntegerField()
    mrr = serializers.FloatField()
    n_at_risk = serializers.IntegerField()
    open_tasks = serializers.IntegerField()
    overdue_tasks = serializers.IntegerField()


class SurvivalPointSerializer(serializers.Serializer):
    day = serializers.IntegerField(help_text="Days after the first subscription start.")
    month = serializers.FloatField(help_text="The same in months (365.25 ÷ 12 days).")
    at_risk = serializers.IntegerField(help_text="Accounts still followed at this time.")
    events = serializers.IntegerField(help_text="Of those, accounts that churned at this time.")
    censored = serializers.IntegerField(help_text="Accounts still active at the end date, followed until this time.")
    survival = serializers.FloatField(help_text="Kaplan–Meier survival just after this time.")


BAND_CHOICES = ["green", "yellow", "red", "unscored"]


class BandTransitionSerializer(serializers.Serializer):
    from_band = serializers.ChoiceField(choices=BAND_CHOICES)
    to_band = serializers.ChoiceField(choices=BAND_CHOICES)
    n = serializers.IntegerField(help_text="Accounts with these bands on from_day and to_day.")


class EngagementBucketSerializer(serializers.Serializer):
    bucket = serializers.CharField(help_text="Active days, e.g. 8-14.")
    min_days = serializers.IntegerField()
    max_days = serializers.IntegerField()
    n_accounts = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="n_accounts ÷ accounts with metrics that day.")


class FunnelStepSerializer(serializers.Serializer):
    milestone_id = serializers.IntegerField()
    milestone = serializers.CharField()
    reached = serializers.IntegerField()
    missed = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="reached ÷ the journey's accounts.")
    median_days = serializers.FloatField(allow_null=True, help_text="Median days from start to reaching it.")


class JourneyFunnelSerializer(serializers.Serializer):
    journey = serializers.CharField()
    key = serializers.CharField()
    n_accounts = serializers.IntegerField(help_text="Accounts created in the period on this journey.")
    time_to_first_value_days = serializers.FloatField(allow_null=True)
    stall = serializers.CharField(allow_null=True, help_text="The milestone where most accounts drop off.")
    steps = FunnelStepSerializer(many=True)


class OfferResultSerializer(serializers.Serializer):
    offer = serializers.CharField()
    label = serializers.CharField()
    contacted = serializers.IntegerField(help_text="Churned accounts contacted with this offer in the period.")
    reactivated = serializers.IntegerField(help_text="Reactivations in the period attributed to this offer.")
    conversion_rate = _rate("reactivated ÷ contacted.")
    mrr_won_back = _money()


def _distribution(size: int, first: int) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(), help_text=f"{size} counts: responses with score {first}, {first + 1}, …"
    )


FIELDS: dict[str, dict[str, serializers.Field]] = {
    "churn-rate": {
        "churn_rate": _rate(),
        "retention_rate": _rate("1 − churn_rate."),
        "n_start": _count("Accounts active at start."),
        "n_churn": _count("Of those, accounts not active at end."),
    },
    "mrr-churn": {
        "mrr_churn_rate": _rate(),
        "start_mrr": _money("MRR at start."),
        "churn_mrr": _money("MRR at start of the accounts not active at end."),
        "downsell_mrr": _money("MRR lost by accounts active at both dates."),
        "n_start": _count("Accounts active at start."),
    },
    "net-retention": {
        "net_retention_rate": _rate("NRR."),
        "gross_retention_rate": _rate("Gross MRR retention."),
        "start_mrr": _money("MRR at start."),
        "retained_mrr": _money("MRR at end of the accounts active at start and end."),
        "gross_retained_mrr": _money("The same, each account capped at its MRR at start."),
    },
    "activity-churn": {
        "churn_rate": _rate(),
        "retention_rate": _rate("1 − churn_rate."),
        "n_start": _count("Accounts with an event in (start − W, start]."),
        "n_churn": _count("Of those, accounts with no event in (end − W, end]."),
        "window": serializers.CharField(help_text="The inactivity window W."),
    },
    "mrr-movements": {
        "start_mrr": _money(),
        "new_mrr": _money(),
        "expansion_mrr": _money(),
        "reactivation_mrr": _money(),
        "contraction_mrr": _money(),
        "churned_mrr": _money(),
        "end_mrr": _money(),
        "net_change_mrr": _money(),
        "n_new": _count(),
        "n_expanded": _count(),
        "n_reactivated": _count(),
        "n_contracted": _count(),
        "n_churned": _count(),
    },
    "arpa": {
        "arpa": _money("MRR ÷ active accounts at end."),
        "mrr": _money("MRR at end."),
        "n_active": _count("Accounts active at end."),
    },
    "nps": {
        "nps": _score("−100 … 100."),
        "n_responses": _count(),
        "n_promoters": _count("Scores 9–10."),
        "n_passives": _count("Scores 7–8."),
        "n_detractors": _count("Scores 0–6."),
        "pct_promoters": _score("Percent."),
        "pct_passives": _score("Percent."),
        "pct_detractors": _score("Percent."),
        "distribution": _distribution(11, 0),
    },
    "csat": {
        "csat": _score("0 … 100."),
        "n_responses": _count(),
        "n_satisfied": _count("Scores 4–5."),
        "distribution": _distribution(5, 1),
    },
    "clv": {
        "clv": _money("ARPA × gross_margin ÷ monthly_churn_rate."),
        "arpa": _money("Pooled over the month starts of the period."),
        "monthly_churn_rate": _rate("Pooled over the months of the period."),
        "gross_margin": serializers.FloatField(),
        "cac": _money("Average CAC entered for the months of the period."),
        "clv_cac_ratio": serializers.FloatField(allow_null=True),
        "n_months": _count(),
    },
    "purchase-clv": {
        "purchase_clv": _money("average_purchase_value × purchase_frequency × average_lifespan_months."),
        "average_purchase_value": _money("Revenue ÷ paid invoices."),
        "purchase_frequency": serializers.FloatField(
            allow_null=True, help_text="Paid invoices per paying customer per month; null without purchases."
        ),
        "average_lifespan_months": serializers.FloatField(
            allow_null=True, help_text="1 ÷ monthly_churn_rate; null when nothing churned."
        ),
        "monthly_churn_rate": _rate("Pooled over the month starts of the period."),
        "revenue": _money("Sum of the paid invoices."),
        "n_purchases": _count("Paid invoices in the period."),
        "n_customers": _count("Accounts with at least one."),
    },
    "repeat-purchase-rate": {
        "repeat_purchase_rate": _rate(),
        "n_customers": _count("Accounts with at least one paid invoice in the period."),
        "n_repeat": _count("Of those, accounts with more than one."),
        "n_purchases": _count("Paid invoices in the period."),
    },
    "survival": {
        "n_accounts": _count("Accounts whose first subscription started in the period."),
        "n_churned": _count("Of those, churned by the end date."),
        "n_censored": _count("Of those, still active at the end date."),
        "median_lifetime_months": serializers.FloatField(
            allow_null=True, help_text="First time survival is one half or below; null before."
        ),
        **{f"survival_{m}m": _rate(f"Survival {m} months after the first subscription.") for m in (3, 6, 12)},
        "curve": SurvivalPointSerializer(many=True),
    },
    "health-movement": {
        "from_day": serializers.DateField(allow_null=True, help_text="First day of the period with snapshots."),
        "to_day": serializers.DateField(allow_null=True, help_text="Last day of the period with snapshots."),
        "n_accounts": _count("Accounts with a snapshot on either day."),
        "n_improved": _count("Scored on both days, band went up."),
        "n_worsened": _count("Scored on both days, band went down."),
        "n_unchanged": _count("Scored on both days, same band."),
        "transitions": BandTransitionSerializer(many=True),
    },
    "engagement-frequency": {
        "day": serializers.DateField(allow_null=True, help_text="The metrics day (its 30 days end there)."),
        "n_accounts": _count("Accounts with metrics that day."),
        "average_active_days": serializers.FloatField(allow_null=True),
        "buckets": EngagementBucketSerializer(many=True),
    },
    "onboarding-funnel": {
        "n_accounts": _count("Accounts created in the period on an onboarding journey (per journey, summed)."),
        "journeys": JourneyFunnelSerializer(many=True),
    },
    "winback-results": {
        "n_churned": _count("Churn records of the period."),
        "churned_mrr": _money("MRR lost by them."),
        "n_won_back": _count("Of those, reactivated before the end date."),
        "winback_rate": _rate("n_won_back ÷ n_churned."),
        "n_reactivated": _count("Reactivations in the period."),
        "mrr_won_back": _money("MRR of those reactivations."),
        "offers": OfferResultSerializer(many=True),
    },
    "cohort-retention": {"cohorts": CohortRowSerializer(many=True)},
    "health-bands": {"bands": HealthBandSerializer(many=True), "n_accounts": _count("Accounts that have not churned.")},
    "csm-workload": {"owners": OwnerWorkloadSerializer(many=True)},
}


def money_keys(kpi: str) -> frozenset[str]:
    """The fields of a KPI's figures that are amounts in the reporting currency, as the API declares them."""
    return frozenset(name for name, field in FIELDS.get(kpi, {}).items() if isinstance(field, MoneyField))


def _class_name(kpi: Kpi) -> str:
    return "".join(part.capitalize() for part in kpi.name.split("-"))


def _response_serializer(kpi: Kpi) -> type[serializers.Serializer]:
    base = _Row if kpi.kind == "snapshot" else _PeriodRow
    return type(f"{_class_name(kpi)}Serializer", (base,), dict(FIELDS[kpi.name]))


class KpiApi(APIView):
    """A KPI over the period [start, end) (or now, for health bands and workload), with the counts behind it."""

    kpi: Kpi
    response_serializer: type[serializers.Serializer]

    def get(self, request, *args, **kwargs):
        params = self.kpi.params(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        with shared_reads():
            return Response(self.response_serializer(kpi_value(self.kpi, params.query())).data)


class KpiSeriesApi(KpiApi):
    """The KPI for each month (or quarter) of [start, end): one row per period, empty periods included."""

    def get(self, request, *args, **kwargs):
        params = series_serializer(self.kpi.params)(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        with shared_reads():
            return Response(self.response_serializer(kpi_series(self.kpi, params.query()), many=True).data)


def _views(kpi: Kpi) -> tuple[type[KpiApi], type[KpiSeriesApi] | None]:
    response = _response_serializer(kpi)
    summary = f"{kpi.title}"
    value_view = extend_schema(
        summary=summary,
        description=kpi.definition + (f"\n\nBenchmark: {kpi.benchmark}." if kpi.benchmark else ""),
        parameters=[kpi.params],
        responses={200: response},
        tags=["kpis"],
    )(type(f"{_class_name(kpi)}Api", (KpiApi,), {"kpi": kpi, "response_serializer": response}))
    if not kpi.has_series:
        return value_view, None
    series_view = extend_schema(
        summary=f"{summary}, per month or quarter",
        description="One row per period of [start, end), cut at calendar month (or quarter) starts.\n\n"
        + kpi.definition,
        parameters=[series_serializer(kpi.params)],
        responses={200: response(many=True)},
        tags=["kpis"],
    )(type(f"{_class_name(kpi)}SeriesApi", (KpiSeriesApi,), {"kpi": kpi, "response_serializer": response}))
    return value_view, series_view


KPI_VIEWS = {name: _views(kpi) for name, kpi in KPIS.items()}


class KpiIndexSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    definition = serializers.CharField()
    benchmark = serializers.CharField()
    kind = serializers.ChoiceField(choices=["period", "cohort", "snapshot"])
    url = serializers.URLField()
    series_url = serializers.URLField(allow_null=True)


class KpiIndexApi(APIView):
    """The KPIs this API answers, with their definitions."""

    @extend_schema(responses={200: KpiIndexSerializer(many=True)}, tags=["kpis"])
    def get(self, request, *args, **kwargs):
        rows = [
            {
                "name": kpi.name,
                "title": kpi.title,
                "definition": kpi.definition,
                "benchmark": kpi.benchmark,
                "kind": kpi.kind,
                "url": reverse("kpi-detail-" + kpi.name, request=request),
                "series_url": reverse("kpi-series-" + kpi.name, request=request) if kpi.has_series else None,
            }
            for kpi in KPIS.values()
        ]
        return Response(KpiIndexSerializer(rows, many=True).data)


class UnknownKpiApi(APIView):
    """Any other name under /api/v1/kpis/: a JSON 404 that lists the known names."""

    @extend_schema(exclude=True)
    def get(self, request, name: str, *args, **kwargs):
        if name in KPIS:
            raise NotFound(_("%(name)s has no series: it is not a figure per period.") % {"name": name})
        raise NotFound(_("Unknown KPI %(name)r. Known: %(known)s.") % {"name": name, "known": ", ".join(KPIS)})
