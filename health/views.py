"""Health pages and partials: the Customer 360 health section, profiles (editor, preview, backtest), the churn
model page and the priorities list. Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Account
from churnapp.roles import can_edit_account
from health import selectors, services
from health.forms import SentimentForm


def _account(pk: int) -> Account:
    try:
        return Account.objects.select_related("owner").get(pk=pk)
    except Account.DoesNotExist as exc:
        raise Http404("No such account.") from exc


@require_GET
def account_health(request: HttpRequest, pk: int) -> HttpResponse:
    """The Customer 360 health section: breakdown, 90-day trend, changelog, churn risk, CSM sentiment."""
    account = _account(pk)
    context = selectors.account_health(account=account)
    context["can_edit"] = can_edit_account(request.user, account)
    context["sentiment_form"] = SentimentForm()
    return render(request, "health/account_health.html#account-health", context)


@require_POST
def sentiment_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied("You can only rate the accounts you own.")
    form = SentimentForm(request.POST)
    if form.is_valid():
        try:
            services.sentiment_create(account=account, author=request.user, **form.cleaned_data)
            messages.success(request, "Sentiment saved; it counts in the health score from the next recompute.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Give a rating from 1 to 5, a comment and a future expiry date.")
    url = f"/accounts/{account.pk}/"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
