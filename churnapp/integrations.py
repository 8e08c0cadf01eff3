"""Admin pages for integrations: an overview of every connection, and API keys (secret shown once, revocable).
Outgoing webhook endpoints have their pages in the messaging app."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import inbound_webhook_summary
from churnapp.apikeys import api_key_create, api_key_list, api_key_revoke, api_key_summary
from churnapp.models import ApiKey, ApiScope
from churnapp.roles import require_admin
from messaging.selectors import webhook_summary

# The secret of a key just created travels to the next GET in the session, so a reload cannot create a second key.
NEW_KEY_SESSION_KEY = "integrations:new-api-key"


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every connection at a glance: API keys, outgoing webhooks, billing and helpdesk webhooks, each with its
    last activity, so an admin sees at once whether data is flowing."""
    require_admin(request.user)
    inbound = inbound_webhook_summary()
    context = {
        **api_key_summary(),
        **webhook_summary(),
        "stripe": {**inbound["stripe"], "configured": bool(settings.STRIPE_WEBHOOK_SECRET)},
        "helpdesk": {**inbound["helpdesk"], "configured": bool(settings.HELPDESK_WEBHOOK_SECRET)},
        "stripe_url": request.build_absolute_uri(reverse("webhook-stripe")),
        "helpdesk_url": request.build_absolute_uri(reverse("webhook-helpdesk")),
    }
    return render(request, "churnapp/integrations.html", context)


@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            key, secret = api_key_create(
                name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"], created_by=request.user
            )
            request.session[NEW_KEY_SESSION_KEY] = secret
            messages.success(request, f"Created API key {key.name}.")
            return redirect("api-keys")
    else:
        form = ApiKeyForm()
    secret = request.session.pop(NEW_KEY_SESSION_KEY, None)
    context = {"form": form, "keys": api_key_list(), "secret": secret}
    return render(request, "churnapp/api_keys.html", context)


@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    key = api_key_revoke(key=get_object_or_404(ApiKey, pk=pk))
    messages.success(request, f"Revoked {key.name}. Requests with it are refused from now on.")
    return redirect("api-keys")
