"""Pages of the automations app. Thin: selectors read, services write."""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from automations import emails, notifications, selectors

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


# --- Public email endpoints (no login: the signed token is the credential) -------------------------------------------


@login_not_required
@never_cache
@require_GET
def email_open(request: HttpRequest, signed: str) -> HttpResponse:
    token = emails.read_open_token(signed)
    if token:
        emails.email_record_open(token=token, user_agent=request.headers.get("User-Agent", ""))
    return HttpResponse(PIXEL, content_type="image/gif")


@login_not_required
@never_cache
@require_GET
def email_click(request: HttpRequest, signed: str) -> HttpResponse:
    data = emails.read_click_token(signed)
    if data is None:
        raise Http404("Unknown link.")
    token, url = data
    emails.email_record_click(token=token, user_agent=request.headers.get("User-Agent", ""))
    # Only the URL signed into the token is ever a target: no open redirect.
    return HttpResponseRedirect(url)


@login_not_required
@csrf_exempt  # one-click unsubscribe (RFC 8058) posts from the mail provider; the signed token authorises it
@never_cache
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    email = emails.unsubscribe_email_from_token(token)
    if email is None:
        return render(request, "automations/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    # GET only shows a confirmation: link scanners fetch every URL and must not unsubscribe anyone.
    if request.method == "POST":
        emails.email_unsubscribe(email=email)
        done = True
    return render(request, "automations/unsubscribe.html", {"email": email, "done": done, "token": token})


# --- Notification centre ---------------------------------------------------------------------------------------------


@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    context = {
        "unread": selectors.unread_notification_count(user=request.user),
        "notifications": selectors.notifications_for(user=request.user, limit=8),
    }
    return render(request, "automations/notifications.html#notification-bell", context)


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    context = {
        "unread": selectors.unread_notification_count(user=request.user),
        "notifications": selectors.notifications_for(user=request.user, limit=200),
    }
    return render(request, "automations/notifications.html", context)


@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    pk = request.POST.get("id")
    notifications.notification_mark_read(user=request.user, notification_id=int(pk) if pk and pk.isdigit() else None)
    if request.htmx:
        return notification_bell(request)
    return HttpResponseRedirect(request.POST.get("next") or "/notifications/")
