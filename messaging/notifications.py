"""In-app notifications (the bell in the header), optionally by email and to a Slack-compatible incoming webhook."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import orjson
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Task, TaskStatus
from churnapp import hooks
from churnapp.models import UserPreference
from churnapp.preferences import user_language
from messaging import conf
from messaging.email.outbox import email_queue, email_queue_many
from messaging.models import EmailMessage, EmailSource, Notification
from messaging.webhooks import post_pinned

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from accounts.models import Account

logger = logging.getLogger(__name__)


def notify(
    *,
    users: Iterable[AbstractBaseUser],
    title: str,
    body: str = "",
    url: str = "",
    account: Account | None = None,
    email: bool = False,
    slack: bool = True,
    dedupe_key: str = "",
) -> list[Notification]:
    """Notify users in the app; with `email`, also by email; and post to the team's Slack webhook when configured.

    `dedupe_key` (optional) makes the email and Slack side effects idempotent when a caller retries.
    """
    users = [u for u in users if u is not None]
    languages = recipient_languages(users)
    texts = {}  # user pk → (title, body) in the user's language (a lazy title or body is translated there)
    for user in users:
        with translation.override(languages[user.pk]):
            texts[user.pk] = (str(title), str(body))
    notes = Notification.objects.bulk_create(
        [Notification(user=u, title=texts[u.pk][0][:255], body=texts[u.pk][1], url=url, account=account) for u in users]
    )
    if email:
        for user in users:
            if user.email:
                subject, text = texts[user.pk]
                email_queue(
                    to_email=user.email,
                    subject=subject,
                    body_text=f"{text}\n\n{url}".strip(),
                    account=account,
                    source=EmailSource.NOTIFICATION,
                    dedupe_key=f"{dedupe_key}:u{user.pk}" if dedupe_key else "",
                    respect_frequency_cap=False,
                )
    webhook = conf.get("SLACK_WEBHOOK_URL")
    if slack and webhook:
        with translation.override(settings.LANGUAGE_CODE):  # the team's channel: the installation's language
            text = f"*{title}*" + (f"\n{body}" if body else "") + (f"\n{url}" if url else "")
        hooks.notify(hooks.SLACK_QUEUED, [text])
    return notes


def recipient_languages(users: Iterable[AbstractBaseUser]) -> dict[int, str]:
    """Each user's language (`churnapp.preferences.user_language`, in one query), the installation's when they
    chose none: what the product writes to them (notifications, emails) is written in it."""
    users = [u for u in users if u is not None]
    chosen = dict(UserPreference.objects.filter(user__in=[u.pk for u in users]).values_list("user_id", "language"))
    return {u.pk: chosen.get(u.pk) or settings.LANGUAGE_CODE for u in users}


def notify_many(*, items: list[dict], email: bool = False, slack: bool = True, label: str = "") -> list[Notification]:
    """`notify` for many at once: items of {users, title, body, url, account, dedupe_key}.

    The in-app notifications in one INSERT, their emails through `email_queue_many`, and one Slack post for the
    batch (each item's title when there are a few, a summary naming the first accounts otherwise).
    """
    languages = recipient_languages({u.pk: u for i in items for u in i["users"] if u is not None}.values())
    # (item, user, title, body): the texts in the user's language (a lazy title or body is translated there).
    written = []
    for i in items:
        for u in i["users"]:
            if u is not None:
                with translation.override(languages[u.pk]):
                    written.append((i, u, str(i["title"]), str(i.get("body", ""))))
    notes = [
        Notification(user=u, title=title[:255], body=body, url=i.get("url", ""), account=i.get("account"))
        for i, u, title, body in written
    ]
    notes = Notification.objects.bulk_create(notes, batch_size=2000)
    if email:
        email_queue_many(
            messages=[
                {
                    "to_email": u.email,
                    "subject": title,
                    "body_text": f"{body}\n\n{i.get('url', '')}".strip(),
                    "account": i.get("account"),
                    "source": EmailSource.NOTIFICATION,
                    "dedupe_key": f"{i['dedupe_key']}:u{u.pk}" if i.get("dedupe_key") else "",
                }
                for i, u, title, body in written
                if u.email
            ],
            respect_frequency_cap=False,
        )
    with translation.override(settings.LANGUAGE_CODE):  # the team's channel: the installation's language
        _slack_post_batch(items, slack=slack, label=label)
    return notes


def _slack_post_batch(items: list[dict], *, slack: bool, label: str) -> None:
    webhook = conf.get("SLACK_WEBHOOK_URL")
    if slack and webhook and items:
        if len(items) <= 5:
            texts = [f"*{i['title']}*" + (f"\n{i['body']}" if i.get("body") else "") for i in items]
        else:
            names = ", ".join(i["account"].name for i in items[:10] if i.get("account") is not None)
            texts = [f"*{label or items[0]['title']}* for {len(items)} accounts: {names}…"]
        hooks.notify(hooks.SLACK_QUEUED, texts)


def slack_post(*, text: str, url: str | None = None) -> int:
    """POST `{"text": …}` to a Slack-compatible incoming webhook (URL checked against SSRF). Returns the status."""
    url = url or conf.get("SLACK_WEBHOOK_URL")
    # Checked and sent in one step: the connection goes to the address that passed the check (no DNS rebinding).
    status, _body = post_pinned(url, orjson.dumps({"text": text}), {"Content-Type": "application/json"})
    if status >= 400:
        raise RuntimeError(f"Slack webhook answered {status}.")
    return status


def notification_mark_read(*, user: AbstractBaseUser, notification_id: int | None = None) -> int:
    """Mark one notification (or all of the user's) read. Returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


def task_digest_send(*, today=None) -> int:
    """Daily digest: each user with open tasks due today or overdue gets one email (idempotent per day)."""

    today = today or timezone.localdate()
    tasks = (
        Task.objects.filter(status=TaskStatus.OPEN, due_date__lte=today, assignee__isnull=False)
        .exclude(assignee__email="")
        .select_related("assignee", "account")
        .order_by("assignee_id", "due_date", "pk")
    )
    by_user: dict = defaultdict(list)
    for task in tasks:
        by_user[task.assignee].append(task)

    for user, items in by_user.items():
        key = f"digest:{user.pk}:{today:%Y-%m-%d}"
        if EmailMessage.objects.filter(dedupe_key=key).exists():
            continue  # already sent today (a retried or repeated run)
        overdue = [t for t in items if t.due_date < today]
        # Written to the user in their language (the installation's when they chose none).
        with translation.override(user_language(user) or settings.LANGUAGE_CODE):
            lines = [
                (_("- OVERDUE %(task)s (due %(date)s)") if t.due_date < today else _("- %(task)s (due %(date)s)"))
                % {"task": t.title_with_account(), "date": formats.date_format(t.due_date, "M d")}
                for t in items
            ]
            subject = ngettext(
                "Your tasks today: %(due)s due, %(overdue)s overdue",
                "Your tasks today: %(due)s due, %(overdue)s overdue",
                len(items),
            ) % {"due": len(items), "overdue": len(overdue)}
            title = ngettext("%(n)s overdue task(s)", "%(n)s overdue task(s)", len(overdue)) % {"n": len(overdue)}
        email_queue(
            to_email=user.email,
            subject=subject,
            body_text="\n".join(lines),
            source=EmailSource.DIGEST,
            dedupe_key=key,
            respect_frequency_cap=False,
        )
        if overdue:
            notify(
                users=[user],
                title=title,
                body="\n".join(lines[:10]),
                url="/",
                slack=False,
            )
    return len(by_user)
