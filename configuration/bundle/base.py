"""What every section of the bundle shares: the error, and the shape of a kind of configuration object."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class BundleInvalid(ValueError):
    """The bundle cannot be applied; the message names the object and the field."""


@dataclass
class Context:
    """What a kind's writes need: who applies the bundle, and what apply has to print once (new secrets)."""

    actor: AbstractBaseUser | None = None
    notes: list[str] | None = None

    def note(self, text: str) -> None:
        if self.notes is not None:
            self.notes.append(text)


class Kind(ABC):
    """One section of the bundle (e.g. `rules`): its objects as plain dicts keyed by a stable slug.

    `current()` reads the database in the exported form; `normalize()` fills an item's optional fields with their
    defaults so a file and the database compare field by field; `save()` creates or updates one object through
    its app's service; `delete()` removes one.
    """

    section: str = ""
    fields: tuple[str, ...] = ()
    defaults: dict[str, Any] = {}

    def key_of(self, item: dict) -> str:
        return str(item["key"])

    @abstractmethod
    def current(self) -> dict[str, dict]:
        """The objects in the database, in the exported form, by key."""

    def normalize(self, item: dict) -> dict:
        out = {**self.defaults, **item}
        return {field: out[field] for field in self.fields if field in out}

    @abstractmethod
    def save(self, key: str, item: dict, ctx: Context) -> None:
        """Create or update the object `key` from its normalised item, through the app's service."""

    @abstractmethod
    def delete(self, key: str, ctx: Context) -> None:
        """Delete the object `key` (only when the bundle is applied with prune)."""
