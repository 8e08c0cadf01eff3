"""Search across everything a CSM looks for: accounts, contacts, tickets, notes and tasks, grouped by kind.

Two steps per kind. First every word of the query (of three characters or more) must be a substring of one of
the kind's fields: a part of a name, a domain, an email, a subject; an account id matches whole. On PostgreSQL the
trigram (pg_trgm) GIN indexes of migration 0010 serve these `upper(field) LIKE '%WORD%'` tests. Hits whose name
starts with the query come first. Then, on PostgreSQL, when that found fewer hits than asked and the query is
words (not an email address or an id): account names, ticket subjects and task titles close to the query despite
a typo (trigram similarity `%` of at least 0.5, then, for one word, word similarity `%>`), ranked by similarity.
Contacts and notes have no such step: a person's name shares trigrams with thousands of others, and a note is
found by its words. SQLite, the embedded default, has the first step only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import Case, CharField, F, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Activity, ActivityKind, Contact, SupportTicket, Task

CharField.register_lookup(Upper)
TextField.register_lookup(Upper)

MIN_LENGTH = 3
MAX_LENGTH = 100


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    model: type
    title: str  # the field a result is named by, and ranked on
    fields: tuple[str, ...]  # every field searched for a substring
    exact: tuple[str, ...] = ()  # fields matched whole (ids: a substring of one means nothing)


KINDS = (
    Kind("accounts", _("Accounts"), Account, "name", ("name", "domain"), exact=("external_id",)),
    Kind("contacts", _("Contacts"), Contact, "name", ("name", "email")),
    Kind("tickets", _("Tickets"), SupportTicket, "subject", ("subject",)),
    Kind("notes", _("Notes"), Activity, "subject", ("subject", "body")),
    Kind("tasks", _("Tasks"), Task, "title", ("title",)),
)


def clean_query(q: str) -> str:
    """Whitespace collapsed, NUL characters (which no database text can hold) dropped, 100 characters at most."""
    return " ".join((q or "").replace("\x00", " ").split())[:MAX_LENGTH]


def _base(kind: Kind) -> QuerySet:
    qs = kind.model.objects.all()
    if kind.model is Account:
        return qs.only("pk", "name", "domain", "status")
    qs = qs.select_related("account").only("pk", "account__id", "account__name", *kind.fields)
    if kind.model is Activity:
        # Audit entries are not notes; the partial trigram indexes cover exactly the other kinds.
        qs = qs.exclude(kind=ActivityKind.CHANGE)
    return qs


def _words(q: str) -> list[str]:
    """The words a substring search needs: those of three characters or more (a trigram index cannot narrow a
    shorter one), or the whole query when it has no such word."""
    return [w for w in q.split() if len(w) >= MIN_LENGTH] or [q]


def _substring_hits(kind: Kind, q: str) -> QuerySet:
    found = Q()
    for word in _words(q):
        any_field = Q()
        for field in kind.fields:
            any_field |= Q(**{f"{field}__icontains": word})
        found &= any_field
    for field in kind.exact:
        found |= Q(**{field: q})
    prefix = Case(When(**{f"{kind.title}__istartswith": q}, then=Value(1.0)), default=Value(0.0))
    return _base(kind).filter(found).annotate(rank=prefix).order_by(F("rank").desc(), kind.title, "pk")


FUZZY_KINDS = ("accounts", "tickets", "tasks")


# Similarity a fuzzy hit needs (pg_trgm's default, 0.3, lets a long name match any name sharing two of its
# words: thousands of rows to rank at 100k accounts). Word similarity keeps its default, 0.6.
SIMILARITY_THRESHOLD = 0.5


def _fuzzy_hits(kind: Kind, q: str, *, limit: int, besides: list[int]) -> list:
    """Names or subjects close to the query (PostgreSQL), other than the substring hits already found: the whole
    name first (`%`), then, for a one-word query, one word of it (`%>`, "Globx" for "Globex Newsletters"). Two
    queries, not one with an OR: each is a bitmap scan of the trigram index, where the OR of both operators makes
    the planner scan the table."""
    upper = q.upper()  # upper(field): the expression the trigram indexes are built on
    found: list = []
    lookups = [("trigram_similar", TrigramSimilarity(kind.title, q))]
    if " " not in q:  # one word: also as a word of a longer name
        lookups.append(("trigram_word_similar", TrigramWordSimilarity(q, kind.title)))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [SIMILARITY_THRESHOLD])
        for lookup, rank in lookups:
            if len(found) >= limit:
                break
            qs = (
                _base(kind)
                .filter(**{f"{kind.title}__upper__{lookup}": upper})
                .exclude(pk__in=besides + [obj.pk for obj in found])
                .annotate(rank=rank)
                .order_by("-rank", kind.title, "pk")
            )
            found += list(qs[: limit - len(found)])
    return found


def _looks_like_words(q: str) -> bool:
    """A name or a subject someone may misspell, not an email address or an id (those are found as typed)."""
    return "@" not in q and not any(ch.isdigit() for ch in q) and any(ch.isalpha() for ch in q)


def _hits(kind: Kind, q: str, limit: int) -> list:
    found = list(_substring_hits(kind, q)[:limit])
    fuzzy = kind.key in FUZZY_KINDS and _looks_like_words(q) and connection.vendor == "postgresql"
    if len(found) < limit and fuzzy:
        found += _fuzzy_hits(kind, q, limit=limit - len(found), besides=[obj.pk for obj in found])
    return found


def _result(kind: Kind, obj) -> dict:
    if kind.model is Account:
        return {
            "id": obj.pk,
            "title": obj.name,
            "detail": obj.domain,
            "account_id": obj.pk,
            "url": reverse("account-detail", args=[obj.pk]),
        }
    detail = {
        Contact: lambda c: c.email,
        SupportTicket: lambda t: t.account.name,
        Activity: lambda a: (a.body or "")[:120],
        Task: lambda t: t.account.name,
    }[kind.model](obj)
    title = getattr(obj, kind.title) or (obj.email if kind.model is Contact else "") or "(untitled)"
    url = reverse("account-detail", args=[obj.account.pk])
    return {"id": obj.pk, "title": title, "detail": detail, "account_id": obj.account.pk, "url": url}


def search_everything(*, q: str, limit: int = 5, kinds: tuple[str, ...] | None = None) -> list[dict]:
    """Up to `limit` results per kind, best first: [{"key", "label", "results": [{id, title, detail, url}]}], only
    kinds with results. A query shorter than three characters finds nothing."""
    q = clean_query(q)
    if len(q) < MIN_LENGTH:
        return []
    groups = []
    for kind in KINDS:
        if kinds and kind.key not in kinds:
            continue
        rows = [_result(kind, obj) for obj in _hits(kind, q, limit)]
        if rows:
            groups.append({"key": kind.key, "label": str(kind.label), "results": rows})
    return groups
