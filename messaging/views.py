"""Pages of the messaging app: the public email endpoints (open pixel, click redirect, unsubscribe), the
notification centre, email templates and the outbox, and outgoing webhook endpoints. Thin: selectors read,
services write."""

from __future__ import annotations

import base64

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import sample_account
from churnapp.paging import page_of
from churnapp.redirects import redirect_next
from churnapp.roles import can_configure, require_admin, require_configure
from messaging import notifications, selectors, webhooks
from messaging.email import render as email_render
from messaging.email import sending, templates, tracking
from messaging.forms import EmailTemplateForm, WebhookEndpointForm
from messaging.models import EmailMessage, EmailStatus, EmailTemplate, WebhookEndpoint, WebhookEvent

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


# --- Public email endpoints (no login: the signed token is the credential) -------------------------------------------


@login_not_required
@never_cache
@require_GET
def email_open(request: HttpRequest, signed: str) -> HttpResponse:
    token = tracking.read_open_token(signed)
    if token:
        tracking.email_record_open(token=token, user_agent=request.headers.get("User-Agent", ""))
    return HttpResponse(PIXEL, content_type="image/gif")


@login_not_required
@never_cache
@require_GET
def email_click(request: HttpRequest, signed: str) -> HttpResponse:
    data = tracking.read_click_token(signed)
    if data is None:
        raise Http404(_("Unknown link."))
    token, url = data
    tracking.email_record_click(token=token, user_agent=request.headers.get("User-Agent", ""))
    # Only the URL signed into the token is ever a target: no open redirect.
    return HttpResponseRedirect(url)


@login_not_required
@csrf_exempt  # one-click unsubscribe (RFC 8058) posts from the mail provider; the signed token authorises it
@never_cache
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    email = tracking.unsubscribe_email_from_token(token)
    if email is None:
        return render(request, "messaging/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    # GET only shows a confirmation: link scanners fetch every URL and must not unsubscribe anyone.
    if request.method == "POST":
        tracking.email_unsubscribe(email=email)
        done = True
    return render(request, "messaging/unsubscribe.html", {"email": email, "done": done, "token": token})


# --- Notification centre ---------------------------------------------------------------------------------------------


@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    context = {
        "unread": selectors.unread_notification_count(user=request.user),
        "notifications": selectors.notifications_for(user=request.user, limit=8),
    }
    return render(request, "messaging/notifications.html#notification-bell", context)


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    context = {
        "unread": selectors.unread_notification_count(user=request.user),
        "notifications_page": (
            listed := page_of(selectors.user_notifications(user=request.user), page=request.GET.get("page"))
        ),
        "notifications": listed.object_list,
    }
    return render(request, "messaging/notifications.html", context)


@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    pk = request.POST.get("id")
    notifications.notification_mark_read(user=request.user, notification_id=int(pk) if pk and pk.isdigit() else None)
    if request.htmx:
        return notification_bell(request)
    return redirect_next(request, reverse("messaging:notification-list"))


# --- Email templates and the outbox ----------------------------------------------------------------------------------


@require_GET
def email_list(request: HttpRequest) -> HttpResponse:
    context = {
        "templates": selectors.email_template_stats(),
        "outbox": selectors.email_outbox(status=request.GET.get("status", ""))[:50],
        "statuses": EmailStatus.choices,
        "status": request.GET.get("status", ""),
        "can_configure": can_configure(request.user),
        "unknown_count": selectors.email_outbox(status=EmailStatus.UNKNOWN).count(),
    }
    return render(request, "messaging/email_list.html", context)


@require_POST
def email_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's decision on a message whose delivery is unknown: resend it (same Message-ID) or mark it sent."""
    require_configure(request.user, refusal=_("Only managers and admins resolve email deliveries."))
    message = get_object_or_404(EmailMessage, pk=pk)
    resend = request.POST.get("action") == "resend"
    if sending.email_resolve_unknown(message=message, resend=resend, actor=request.user):
        names = {"subject": message.subject, "to": message.to_email}
        if resend:
            messages.success(request, _("“%(subject)s” to %(to)s: resent.") % names)
        else:
            messages.success(request, _("“%(subject)s” to %(to)s: marked sent.") % names)
    return redirect(f"{reverse('messaging:email-list')}?status={EmailStatus.UNKNOWN}")


# The preview iframe (sandboxed, no scripts) shows the e-mail as sent: inline styles and remote images included.
@csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["https:"]})
@require_http_methods(["GET", "POST"])
def email_template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins edit email templates."))
    template = get_object_or_404(EmailTemplate, pk=pk) if pk else None
    form = EmailTemplateForm(request.POST or None, instance=template)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            account, contact = sample_account()
            preview = email_render.email_render_source(
                subject=data["subject"], body_text=data["body_text"], body_html=data["body_html"],
                context=email_render.email_context(account=account, contact=contact),
            )  # fmt: skip
        else:
            template = templates.email_template_save(
                key=data["key"], name=data["name"], subject=data["subject"], body_text=data["body_text"],
                body_html=data["body_html"], template=template,
            )  # fmt: skip
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("messaging:email-list")
    source = (form["subject"].value() or "") + (form["body_text"].value() or "")
    context = {
        "form": form,
        "template": template,
        "preview": preview,
        "variables": email_render.template_variables(source),
    }
    return render(request, "messaging/email_template_edit.html", context)


# --- Outgoing webhook endpoints (admins) -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def webhook_endpoints(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = webhooks.endpoint_create(created_by=request.user, **form.cleaned_data)
        messages.success(
            request,
            _("Subscribed %(url)s. Signing secret: %(secret)s") % {"url": endpoint.url, "secret": endpoint.secret},
        )
        return redirect("webhook-endpoint-detail", pk=endpoint.pk)
    context = {"form": form, "endpoints": selectors.webhook_endpoint_list()}
    return render(request, "messaging/webhook_endpoints.html", context)


@require_http_methods(["GET", "POST"])
def webhook_endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "enable":
            webhooks.endpoint_enable(endpoint=endpoint)
            messages.success(request, _("Endpoint enabled again."))
        elif action == "disable":
            webhooks.endpoint_disable(endpoint=endpoint, reason="Disabled by an admin.")
            messages.success(request, _("Endpoint disabled."))
        elif action == "ping":
            webhooks.webhook_emit(event=WebhookEvent.PING, payload={"ping": True}, endpoints=[endpoint])
            messages.success(request, _("Ping queued."))
        return redirect("webhook-endpoint-detail", pk=endpoint.pk)
    context = {"endpoint": endpoint, "deliveries": selectors.webhook_deliveries(endpoint=endpoint)[:100]}
    return render(request, "messaging/webhook_endpoint_detail.html", context)
