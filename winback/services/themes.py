"""Themes of comments: keyword tagging, automatic clustering, naming a cluster, and closing the loop by theme."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Contact, SurveyResponse
from winback import emailing, textmining
from winback.models import ClusterRun, LoopMessage, ResponseTheme, Theme, ThemeCluster, ThemeSource
from winback.services.page_figures import page_facts_refresh_soon

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _with_comment():
    return SurveyResponse.objects.exclude(comment="")


def themes_tag_responses(*, response_ids: list[int] | None = None) -> int:
    """Tag comments with every keyword theme they mention (idempotent); returns how many tags were added."""
    themes = {t.pk: t.keyword_list for t in Theme.objects.exclude(keywords="")}
    if not themes:
        return 0
    responses = _with_comment()
    if response_ids is not None:
        responses = responses.filter(pk__in=response_ids)
    links = []
    for pk, comment in responses.values_list("pk", "comment").iterator(chunk_size=5000):
        for theme_id, words in themes.items():
            if textmining.keyword_matches(comment, words):
                links.append(ResponseTheme(response_id=pk, theme_id=theme_id, source=ThemeSource.KEYWORDS))
    before = ResponseTheme.objects.count()
    ResponseTheme.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
    return ResponseTheme.objects.count() - before


@transaction.atomic
def themes_cluster(
    *, n_clusters: int = 6, method: str = "nmf", since: dt.datetime | None = None, limit: int = 20000
) -> ClusterRun:
    """Cluster the comments no theme tagged yet (newest first, up to `limit`) and store clusters with top terms."""
    untagged = _with_comment().filter(theme_links__isnull=True)
    if since is not None:
        untagged = untagged.filter(responded_at__gte=since)
    rows = list(untagged.order_by("-responded_at").values_list("pk", "comment")[:limit])
    result = textmining.cluster_comments([c for _, c in rows], n_clusters=n_clusters, method=method)
    run = ClusterRun.objects.create(method=method, n_clusters=len(result.top_terms), n_comments=len(rows))
    clusters = ThemeCluster.objects.bulk_create(
        [
            ThemeCluster(run=run, index=i, top_terms=terms, size=sum(1 for x in result.labels if x == i))
            for i, terms in enumerate(result.top_terms)
        ]
    )
    through = ThemeCluster.responses.through
    by_index = {c.index: c for c in clusters}
    through.objects.bulk_create(
        [
            through(themecluster_id=by_index[label].pk, surveyresponse_id=pk)
            for (pk, _), label in zip(rows, result.labels, strict=True)
            if label >= 0
        ],
        batch_size=2000,
    )
    page_facts_refresh_soon()
    return run


@transaction.atomic
def cluster_name(*, cluster: ThemeCluster, name: str, actor: AbstractBaseUser | None = None) -> Theme:
    """A manager names a cluster: it becomes a theme (keywords from its top terms) and its comments are tagged."""
    name = name.strip()
    if not name:
        raise ValueError(_("Give the theme a name."))
    theme, created = Theme.objects.get_or_create(
        name=name, defaults={"keywords": ", ".join(cluster.terms[:5]), "source": ThemeSource.CLUSTER}
    )
    cluster.theme = theme
    cluster.save(update_fields=["theme"])
    ResponseTheme.objects.bulk_create(
        [
            ResponseTheme(response_id=pk, theme=theme, source=ThemeSource.CLUSTER)
            for pk in cluster.responses.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    page_facts_refresh_soon()
    return theme


def theme_respondents(*, theme: Theme, since: dt.datetime | None = None):
    """Contacts (with an email) who left a comment on this theme, once each."""
    links = ResponseTheme.objects.filter(theme=theme)
    if since is not None:
        links = links.filter(response__responded_at__gte=since)
    return (
        Contact.objects.filter(pk__in=links.values("response__contact_id"))
        .exclude(email="")
        .select_related("account", "account__owner")
    )


def loop_message_send(
    *, theme: Theme, subject: str, body: str, actor: AbstractBaseUser | None, since: dt.datetime | None = None
) -> LoopMessage:
    """ "You told us, we changed this": one email to each respondent of the theme (suppression and caps apply)."""
    if not subject.strip() or not body.strip():
        raise ValueError(_("The message needs a subject and a body."))
    message = LoopMessage.objects.create(theme=theme, subject=subject.strip(), body=body.strip(), sent_by=actor)
    sent = suppressed = 0
    for contact in theme_respondents(theme=theme, since=since):
        result = emailing.send(
            contact=contact,
            account=contact.account,
            subject=message.subject,
            body=message.body,
            source="survey",
            dedupe_key=f"loop:{message.pk}:{contact.pk}",
            extra={"theme": {"name": theme.name}},
            # A reply to the customer's own feedback is not marketing: the list and unsubscribes still apply.
            respect_frequency_cap=False,
        )
        if result.suppressed:
            suppressed += 1
        else:
            sent += 1
    message.recipients, message.suppressed = sent, suppressed
    message.sent_at = timezone.now()
    message.save(update_fields=["recipients", "suppressed", "sent_at"])
    return message
