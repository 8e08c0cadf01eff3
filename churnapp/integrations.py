"""Admin pages for integrations: an overview, API keys (secret shown once, revocable), outgoing webhook endpoints."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import inbound_webhook_summary
from churnapp import webhooks_out
from churnapp.apikeys import api_key_create, api_key_revoke
from churnapp.models import ApiKey, ApiScope, WebhookDelivery, WebhookEndpoint, WebhookEvent

# The secret of a key just created travels to the next GET in the session, so a reload cannot create a second key.
NEW_KEY_SESSION_KEY = "integrations:new-api-key"


def _require_admin(request: HttpRequest) -> None:
    if not request.user.has_perm("churnapp.add_apikey"):
        raise PermissionDenied("Only admins manage integrations.")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(max_length=500, assume_scheme="https")
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhooks_out.check_url(url)
        except webhooks_out.UnsafeUrl as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every connection at a glance: API keys, outgoing webhooks, billing and helpdesk webhooks, each with its
    last activity, so an admin sees at once whether data is flowing."""
    _require_admin(request)
    keys = ApiKey.objects.all()
    inbound = inbound_webhook_summary()
    context = {
        "active_keys": keys.filter(revoked_at__isnull=True).count(),
        "revoked_keys": keys.filter(revoked_at__isnull=False).count(),
        "last_used_key": keys.filter(last_used_at__isnull=False).order_by("-last_used_at").first(),
        "endpoints": WebhookEndpoint.objects.count(),
        "active_endpoints": WebhookEndpoint.objects.filter(is_active=True).count(),
        "last_delivery": WebhookDelivery.objects.select_related("endpoint").first(),
        "stripe": {**inbound["stripe"], "configured": bool(settings.STRIPE_WEBHOOK_SECRET)},
        "helpdesk": {**inbound["helpdesk"], "configured": bool(settings.HELPDESK_WEBHOOK_SECRET)},
        "stripe_url": request.build_absolute_uri(reverse("webhook-stripe")),
        "helpdesk_url": request.build_absolute_uri(reverse("webhook-helpdesk")),
    }
    return render(request, "churnapp/integrations.html", context)


@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
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
    context = {"form": form, "keys": ApiKey.objects.select_related("created_by"), "secret": secret}
    return render(request, "churnapp/api_keys.html", context)


@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    key = api_key_revoke(key=get_object_or_404(ApiKey, pk=pk))
    messages.success(request, f"Revoked {key.name}. Requests with it are refused from now on.")
    return redirect("api-keys")


@require_http_methods(["GET", "POST"])
def webhook_endpoints(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = webhooks_out.endpoint_create(created_by=request.user, **form.cleaned_data)
        messages.success(request, f"Subscribed {endpoint.url}. Signing secret: {endpoint.secret}")
        return redirect("webhook-endpoint-detail", pk=endpoint.pk)
    return render(
        request, "churnapp/webhook_endpoints.html", {"form": form, "endpoints": WebhookEndpoint.objects.all()}
    )


@require_http_methods(["GET", "POST"])
def webhook_endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "enable":
            webhooks_out.endpoint_enable(endpoint=endpoint)
            messages.success(request, "Endpoint enabled again.")
        elif action == "disable":
            webhooks_out.endpoint_disable(endpoint=endpoint, reason="Disabled by an admin.")
            messages.success(request, "Endpoint disabled.")
        elif action == "ping":
            webhooks_out.webhook_emit(event=WebhookEvent.PING, payload={"ping": True}, endpoints=[endpoint])
            messages.success(request, "Ping queued.")
        return redirect("webhook-endpoint-detail", pk=endpoint.pk)
    deliveries = endpoint.deliveries.all()[:100]
    return render(request, "churnapp/webhook_endpoint_detail.html", {"endpoint": endpoint, "deliveries": deliveries})
