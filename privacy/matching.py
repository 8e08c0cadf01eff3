"""How a subject (a person, or a customer with its people) is recognised in stored text and JSON.

An `Identity` holds what identifies the subject — email addresses, names (people, the company, its domain) and ids
(product user ids, CRM and billing ids) — and turns it into case-insensitive regular expressions that both databases
run (PostgreSQL `~*`, SQLite `REGEXP`, which Django backs with Python's `re`) and that Python runs on import files.
One pattern is one SQL parameter whatever the number of needles, so an account with thousands of contacts is still a
handful of parameters (CHUNK alternatives per pattern).

Matching is deliberately tight, because a false match erases someone else's data:
- an email matches as a whole address (not inside a longer one: "ann@x.io" is not in "joann@x.io");
- a name matches as whole words, and only from MIN_FREE_TEXT_NAME characters on ("Al" would match "Also"); a
  shorter one still matches as an exact JSON string value. Two people may share a name, so callers search names
  only in rows of the subject's account (`privacy.subjects.Subject`);
- an id matches only as an exact JSON string value (`"u-17"`, never inside `"u-170"`): ids are short and
  numbers-like, so free text is never searched for them; exact columns (user_id, customer_ref…) are matched by
  equality by the callers.
JSON is searched in its text form. SQLite stores non-ASCII characters escaped (`\\u00eb`), PostgreSQL does not: both
spellings are searched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, reduce
from operator import or_

from django.db.models import F, Q, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import IRegex

MIN_FREE_TEXT_NAME = 4
CHUNK = 200
_WORD = "0-9A-Za-z"
_EMAIL_CHARS = "0-9A-Za-z._%+-"


def _escaped_variants(value: str) -> list[str]:
    """The value as written, and as JSON writes it inside a string (escaped quotes, backslashes, non-ASCII)."""
    variants = [value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]]
    return list(dict.fromkeys(variants))


def _email(value: str) -> str:
    before = f"(?:^|[^{_EMAIL_CHARS}])"
    after = rf"(?:$|[^{_WORD}_%+.-]|\.(?:$|[^{_WORD}]))"
    return before + re.escape(value) + after


def _word(value: str) -> str:
    return f"(?:^|[^{_WORD}])" + re.escape(value) + f"(?:$|[^{_WORD}])"


def _quoted(value: str) -> str:
    return '"' + re.escape(value) + '"'


def _chunked(fragments: list[str]) -> list[str]:
    fragments = list(dict.fromkeys(fragments))
    return ["(?:" + "|".join(fragments[i : i + CHUNK]) + ")" for i in range(0, len(fragments), CHUNK)]


def _clean(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


@dataclass(frozen=True)
class Identity:
    """What identifies a subject in stored text (see the module's docstring for how each kind matches)."""

    emails: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, *, emails=(), names=(), ids=()) -> Identity:
        return cls(emails=_clean(emails), names=_clean(names), ids=_clean(ids))

    @property
    def is_empty(self) -> bool:
        return not (self.emails or self.names or self.ids)

    def _free_text(self, variants) -> list[str]:
        fragments = [_email(v) for email in self.emails for v in variants(email)]
        long_names = [n for n in self.names if len(n) >= MIN_FREE_TEXT_NAME]
        return fragments + [_word(v) for name in long_names for v in variants(name)]

    def text_patterns(self) -> list[str]:
        """Patterns for free text (notes, subjects, email bodies): emails and names."""
        return _chunked(self._free_text(lambda value: [value]))

    def json_patterns(self) -> list[str]:
        """Patterns for JSON text (payloads, properties, traits, raw import rows): emails and names anywhere in a
        string, and every identifier as an exact string value."""
        fragments = self._free_text(_escaped_variants)
        exact = [*self.emails, *self.names, *self.ids]
        fragments += [_quoted(v) for value in exact for v in _escaped_variants(value)]
        return _chunked(fragments)

    @cached_property
    def _compiled_text(self) -> list[re.Pattern]:
        return [re.compile(p, re.IGNORECASE) for p in self.text_patterns()]

    @cached_property
    def _compiled_json(self) -> list[re.Pattern]:
        return [re.compile(p, re.IGNORECASE) for p in self.json_patterns()]

    def matches_text(self, text: str) -> bool:
        return any(p.search(text) for p in self._compiled_text)

    def matches_json(self, text: str) -> bool:
        return any(p.search(text) for p in self._compiled_json)

    def matches_cells(self, cells: list[str]) -> bool:
        """A CSV row: any identifier as a whole cell, an email or a name anywhere in a cell."""
        exact = {value.casefold() for value in (*self.emails, *self.names, *self.ids)}
        return any(cell.strip().casefold() in exact for cell in cells) or any(self.matches_text(c) for c in cells)


def reference_patterns(*, pk: int, external_id: str) -> tuple[str, ...]:
    """Patterns of JSON text that refers to an account: its external id as a string value, its id as the value of
    an `account_id` (or `account`) key, as outgoing webhooks and import reports write them."""
    patterns = [f'"account(?:_id)?": ?{pk}(?:[^0-9]|$)']
    if external_id:
        patterns += [_quoted(v) for v in _escaped_variants(external_id)]
    return tuple(_chunked(patterns))


def _any(lookups: list) -> Q:
    # No pattern (nothing identifies the subject here) matches no row.
    return reduce(or_, (Q(lookup) for lookup in lookups)) if lookups else Q(pk__in=[])


def mentions(*fields: str, identity: Identity, json_fields: tuple[str, ...] = ()) -> Q:
    """Rows where any of `fields` (free text) or `json_fields` (JSON, searched as text) mentions the subject."""
    text = identity.text_patterns()
    lookups = [IRegex(F(field), pattern) for field in fields for pattern in text]
    patterns = identity.json_patterns()
    lookups += [IRegex(Cast(field, output_field=TextField()), p) for field in json_fields for p in patterns]
    return _any(lookups)


def refers(*json_fields: str, patterns: tuple[str, ...]) -> Q:
    """Rows whose JSON (searched as text) matches one of `patterns` (see `reference_patterns`)."""
    return _any([IRegex(Cast(field, output_field=TextField()), p) for field in json_fields for p in patterns])


def equals_any(field: str, values, *, case_sensitive: bool = True) -> Q:
    """Rows whose `field` is one of `values` (emails compare case-insensitively)."""
    values = _clean(values)
    if case_sensitive:
        return _any([Q(**{f"{field}__in": values[i : i + 500]}) for i in range(0, len(values), 500)])
    patterns = _chunked([re.escape(v) for v in values])
    return _any([IRegex(F(field), f"^{pattern}$") for pattern in patterns])
