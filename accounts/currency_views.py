"""Exchange rates page: the dated rates that convert subscriptions priced in another currency (managers, admins)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import ExchangeRate
from accounts.selectors import exchange_rates
from accounts.services.currency import exchange_rate_delete, exchange_rate_set
from churnapp.money import currency, foreign_currency_code
from churnapp.roles import require_configure


class ExchangeRateForm(forms.Form):
    currency = forms.CharField(max_length=3, help_text=gettext_lazy("ISO 4217 code, e.g. EUR."))
    valid_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    rate = forms.DecimalField(max_digits=18, decimal_places=8, min_value=0.00000001)

    def clean_currency(self) -> str:
        try:
            return foreign_currency_code(self.cleaned_data["currency"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


@require_http_methods(["GET", "POST"])
def exchange_rate_list(request: HttpRequest) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins keep exchange rates."))
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rate = exchange_rate_set(
            code=form.cleaned_data["currency"],
            valid_from=form.cleaned_data["valid_from"],
            rate=form.cleaned_data["rate"],
        )
        messages.success(
            request,
            _("1 %(code)s = %(rate)s %(currency)s from %(day)s.")
            % {"code": rate.currency, "rate": rate.rate.normalize(), "currency": currency(), "day": rate.valid_from},
        )
        return redirect("exchange-rates")
    context = {"form": form, "rates": exchange_rates(), "currency": currency()}
    return render(request, "accounts/exchange_rates.html", context, status=400 if form.errors else 200)


@require_POST
def exchange_rate_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins keep exchange rates."))
    rate = get_object_or_404(ExchangeRate, pk=pk)
    exchange_rate_delete(rate=rate)
    messages.success(
        request, _("Deleted the %(code)s rate from %(day)s.") % {"code": rate.currency, "day": rate.valid_from}
    )
    return redirect("exchange-rates")
