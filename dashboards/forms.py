"""Forms of the dashboard: the filter bar (period, segment, owner, plan), goals and CAC entries."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Segment
from dashboards.kpis.periods import add_months, month_start
from dashboards.models import Comparator, Goal, GoalMetric
from dashboards.params import FIRST_DATE, LAST_DATE, KpiFilters

PERIODS = [("3m", _("Last 3 months")), ("6m", _("Last 6 months")), ("12m", _("Last 12 months")),
           ("24m", _("Last 24 months")), ("custom", _("Custom dates"))]  # fmt: skip
DEFAULT_PERIOD = "12m"


class DashboardFilterForm(forms.Form):
    """The filter bar. Presets are whole calendar months ending at the current month's start.

    Owner and plan are free text here (the page offers them as selects): every widget request validates the bar,
    and listing every user to validate an owner would cost each of them a query over all users. An owner or plan
    nobody has simply matches no account, as on the accounts list.
    """

    period = forms.ChoiceField(choices=PERIODS, required=False, initial=DEFAULT_PERIOD)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    segment = forms.ChoiceField(choices=[("", _("All segments")), *Segment.choices], required=False)
    owner = forms.CharField(required=False, max_length=254)
    plan = forms.CharField(required=False, max_length=64)

    def __init__(self, *args, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean(self):
        data = super().clean()
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Custom dates need a start and an end."))
            if not (FIRST_DATE <= start <= LAST_DATE and FIRST_DATE <= end <= LAST_DATE):
                raise forms.ValidationError(
                    _("Give dates from %(first)s to %(last)s.") % {"first": FIRST_DATE, "last": LAST_DATE}
                )
            if end <= start:
                self.add_error("end", _("The end must be after the start."))
            elif (end - start).days > 366 * 10:
                self.add_error("end", _("At most ten years."))
        else:
            last = month_start(self.today)
            data["end"] = last
            data["start"] = add_months(last, -int(period.rstrip("m")))
        data["period"] = period
        return data

    def filters(self, user_id: int | None) -> KpiFilters:
        data = self.cleaned_data
        return KpiFilters(
            segments=(data["segment"],) if data.get("segment") else (),
            owner=data.get("owner", "").strip(),
            plan=data.get("plan", "").strip(),
            user_id=user_id if data.get("owner") == "me" else None,
        )


class GoalForm(forms.ModelForm):
    class Meta:
        model = Goal
        fields = ["metric", "segment", "comparator", "target", "year", "quarter"]
        widgets = {"quarter": forms.Select(choices=[(q, f"Q{q}") for q in range(1, 5)])}
        help_texts = {"target": _("Percent for rates (3 = 3 %), points for NPS, currency for MRR and ARPA.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["year"].initial = today.year
        self.fields["quarter"].initial = (today.month - 1) // 3 + 1
        self.fields["segment"].choices = [("", _("All segments")), *Segment.choices]
        self.fields["metric"].choices = GoalMetric.choices
        self.fields["comparator"].choices = Comparator.choices
        self.fields["quarter"].widget.choices = [(q, gettext("Q%(quarter)s") % {"quarter": q}) for q in range(1, 5)]


class AcquisitionCostForm(forms.Form):
    month = forms.DateField(
        widget=forms.DateInput(attrs={"type": "month"}),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        label=_("Month"),
        help_text=_("The month the CAC applies to."),
    )
    segment = forms.ChoiceField(label=_("Segment"), choices=[("", _("All segments")), *Segment.choices], required=False)
    amount = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, label=_("CAC per new customer"))

    def clean_month(self):
        return month_start(self.cleaned_data["month"])
