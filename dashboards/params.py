"""Query parameters of the KPI API and the dashboard: period, filters and KPI options, validated once for both.

Filters mean what they mean on the accounts list (`accounts.filters.AccountFilterSet`): `segment` (repeatable),
`owner` (a user id, `me`, `none`, a username or an e-mail) and `plan` (case-insensitive). They apply to the
accounts' current segment, owner and plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.models import Segment
from dashboards.kpis.periods import INTERVAL_MONTHS, Window, split_periods

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

MAX_SERIES_PERIODS = 240
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def _is_id(value: str) -> bool:
    """A user id: ASCII digits only (str.isdigit also accepts "¹", which int() refuses)."""
    return value.isascii() and value.isdigit()


def _in_range(value: dt.date) -> dt.date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise serializers.ValidationError(
            _("Give a date from %(first)s to %(last)s.") % {"first": FIRST_DATE, "last": LAST_DATE}
        )
    return value


@dataclass(frozen=True)
class KpiFilters:
    """Which accounts a KPI counts."""

    segments: tuple[str, ...] = ()
    owner: str = ""
    plan: str = ""
    # The user `owner=me` means; set by the serializer from the request.
    user_id: int | None = field(default=None, compare=False)

    @property
    def is_empty(self) -> bool:
        return not (self.segments or self.owner or self.plan)

    def q(self, *, prefix: str = "", owner_field: str = "owner_id") -> Q:
        """A Q on `segment`, `owner_id` and `plan`: the same on Account and on the fact tables.

        `prefix` reaches the account through a relation (`account__`); `owner_field` names the person filtered.
        """
        q = Q()
        if self.segments:
            q &= Q(**{f"{prefix}segment__in": self.segments})
        if self.plan:
            q &= Q(**{f"{prefix}plan__iexact": self.plan})
        if self.owner == "me":
            q &= Q(**{owner_field: self.user_id})
        elif self.owner == "none":
            q &= Q(**{f"{owner_field}__isnull": True})
        elif _is_id(self.owner):
            q &= Q(**{owner_field: int(self.owner)})
        elif self.owner:
            users = get_user_model().objects.filter(Q(username__iexact=self.owner) | Q(email__iexact=self.owner))
            q &= Q(**{f"{owner_field}__in": users.values("pk")})
        return q

    def as_params(self) -> list[tuple[str, str]]:
        """Query-string pairs for links (the accounts list understands the same names)."""
        pairs = [("segment", s) for s in self.segments]
        if self.owner:
            pairs.append(("owner", self.owner))
        if self.plan:
            pairs.append(("plan", self.plan))
        return pairs


@dataclass(frozen=True)
class KpiQuery:
    """A validated KPI request: the period [start, end), the filters and the KPI's options."""

    start: dt.date | None
    end: dt.date | None
    filters: KpiFilters = KpiFilters()
    window: Window = Window(1, "m")
    margin: float = 1.0
    dedupe: bool = False
    interval: str = "month"

    def periods(self) -> list[tuple[dt.date, dt.date]]:
        return split_periods(self.start, self.end, self.interval)


class _MultiValueField(serializers.ListField):
    """A repeatable query parameter (`?segment=smb&segment=enterprise`); commas also separate values."""

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            values = [part for value in dictionary.getlist(self.field_name) for part in value.split(",") if part]
            return values or serializers.empty
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # One flat list of messages per field ("galactic" is not a valid choice), not one per list index.
            detail = exc.detail
            messages = [m for ms in detail.values() for m in ms] if isinstance(detail, dict) else detail
            raise serializers.ValidationError(messages) from exc


class KpiFiltersSerializer(serializers.Serializer):
    segment = _MultiValueField(
        child=serializers.ChoiceField(choices=Segment.choices), required=False, help_text="Repeatable."
    )
    owner = serializers.CharField(
        required=False, allow_blank=True, max_length=254, help_text="A user id, `me`, `none`, a username or e-mail."
    )
    plan = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="Case-insensitive.")

    def validate_owner(self, value: str) -> str:
        value = value.strip()
        if value in ("", "none"):
            return value
        if value == "me":
            user = self._user()
            if user is None or getattr(user, "pk", None) is None:
                raise serializers.ValidationError(_("`me` needs a signed-in user; give a user id, username or e-mail."))
            return value
        users = get_user_model().objects.all()
        exists = (
            users.filter(pk=int(value)).exists()
            if _is_id(value)
            else users.filter(Q(username__iexact=value) | Q(email__iexact=value)).exists()
        )
        if not exists:
            raise serializers.ValidationError(_("No user %(user)r.") % {"user": value})
        return value

    def _user(self) -> AbstractBaseUser | None:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def filters(self) -> KpiFilters:
        data = self.validated_data
        user = self._user()
        return KpiFilters(
            segments=tuple(dict.fromkeys(data.get("segment", []))),
            owner=data.get("owner", ""),
            plan=data.get("plan", "").strip(),
            user_id=getattr(user, "pk", None) if data.get("owner") == "me" else None,
        )


class KpiParamsSerializer(KpiFiltersSerializer):
    """Period and filters of `GET /api/v1/kpis/<name>/`."""

    start = serializers.DateField(
        input_formats=["%Y-%m-%d"], help_text="First day of the period, YYYY-MM-DD (accounts active at start)."
    )
    end = serializers.DateField(
        input_formats=["%Y-%m-%d"], help_text="End of the period [start, end), YYYY-MM-DD (accounts active at end)."
    )

    def validate_start(self, value: dt.date) -> dt.date:
        return _in_range(value)

    def validate_end(self, value: dt.date) -> dt.date:
        return _in_range(value)

    def validate(self, attrs: dict) -> dict:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("Must be after start.")]})
        return attrs

    def query(self, **options) -> KpiQuery:
        return KpiQuery(start=self.validated_data["start"], end=self.validated_data["end"], filters=self.filters(),
                        **options)  # fmt: skip


class ActivityChurnParamsSerializer(KpiParamsSerializer):
    window = serializers.CharField(
        required=False, default="1m", help_text="Inactivity window W: calendar months (`1m`) or days (`30d`)."
    )

    def validate_window(self, value: str) -> Window:
        try:
            return Window.parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def query(self, **options) -> KpiQuery:
        return super().query(window=self.validated_data["window"], **options)


class SurveyParamsSerializer(KpiParamsSerializer):
    dedupe = serializers.BooleanField(
        required=False, default=False, help_text="Count only each contact's latest response in the period."
    )

    def query(self, **options) -> KpiQuery:
        return super().query(dedupe=self.validated_data["dedupe"], **options)


class ClvParamsSerializer(KpiParamsSerializer):
    margin = serializers.FloatField(
        required=False, default=1.0, min_value=0.0, max_value=1.0, help_text="Gross margin, 0–1 (default 1.0)."
    )

    def query(self, **options) -> KpiQuery:
        return super().query(margin=self.validated_data["margin"], **options)


class SeriesParamsMixin(serializers.Serializer):
    interval = serializers.ChoiceField(choices=sorted(INTERVAL_MONTHS), required=False, default="month")

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if len(split_periods(attrs["start"], attrs["end"], attrs["interval"])) > MAX_SERIES_PERIODS:
            raise serializers.ValidationError(
                {"end": [_("A series has at most %(n)s periods.") % {"n": MAX_SERIES_PERIODS}]}
            )
        return attrs

    def query(self, **options) -> KpiQuery:
        return super().query(interval=self.validated_data["interval"], **options)


class SnapshotParamsSerializer(KpiFiltersSerializer):
    """Filters of the KPIs that describe the accounts now (health bands, CSM workload)."""

    def query(self, **options) -> KpiQuery:
        return KpiQuery(start=None, end=None, filters=self.filters(), **options)


def series_serializer(base: type[KpiParamsSerializer]) -> type[KpiParamsSerializer]:
    """The same parameters plus `interval`, for `/series/`."""
    return type(f"Series{base.__name__}", (SeriesParamsMixin, base), {})
