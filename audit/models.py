"""The audit trail: one append-only entry per create, update or delete of a fact or a configuration object.

An entry says who (a person, an API key, a rule, a playbook, an import, a webhook or the system), what (the object and
each changed field's value before and after), when, and through which door (page, API, import, tracking, webhook,
worker). Nothing in the product edits or deletes an entry; on PostgreSQL a trigger refuses UPDATE and DELETE unless
the retention purge or a data-subject erasure opened the gate for its own transaction (`audit.gate`).
"""

from __future__ import annotations

import json

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.gate import AppendOnlyError, is_open
from audit.registry import AUDITED

LABELS = {spec.model.lower(): spec.label for spec in AUDITED}


class Door(models.TextChoices):
    UI = "ui", _("Pages")
    API = "api", _("REST API")
    IMPORT = "import", _("Import")
    TRACKING = "tracking", _("Tracking API")
    WEBHOOK = "webhook", _("Webhook")
    WORKER = "worker", _("Worker")
    ADMIN = "admin", _("Django admin")
    COMMAND = "command", _("Command line")


class ActorKind(models.TextChoices):
    USER = "user", _("Person")
    API_KEY = "api_key", _("API key")
    RULE = "rule", _("Rule")
    PLAYBOOK = "playbook", _("Playbook")
    IMPORT = "import", _("Import job")
    WEBHOOK = "webhook", _("Webhook")
    SYSTEM = "system", _("System")


class Action(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    ERASE = "erase", _("Personal data erased")


class AuditQuerySet(models.QuerySet):
    """Entries are never changed or removed, except by the purge and the erasure inside an open gate."""

    def update(self, **kwargs):
        if not is_open():
            raise AppendOnlyError
        return super().update(**kwargs)

    def delete(self):
        if not is_open():
            raise AppendOnlyError
        return super().delete()


class AuditEntry(models.Model):
    occurred_at = models.DateTimeField(default=timezone.now)
    door = models.CharField(max_length=16, choices=Door.choices)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True, help_text="The actor's id: user, key, rule, job…")
    actor_label = models.CharField(max_length=255, blank=True, help_text="The actor's name when it acted.")
    user_id = models.BigIntegerField(
        null=True, blank=True, help_text="The person behind the actor: the user, or who started the import."
    )
    object_type = models.CharField(max_length=64, help_text="app_label.model, e.g. accounts.account.")
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True, help_text="Field → [before, after].")
    account_id = models.BigIntegerField(null=True, blank=True, help_text="The account the object belongs to.")
    batch = models.CharField(max_length=36, blank=True, help_text="Groups the entries of one set-based write.")

    objects = AuditQuerySet.as_manager()

    class Meta:
        # Entries are appended in time order, so the id orders them by time too, and the indexes end with it.
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        # One index per filter of the trail page and the API; partial where most entries have no value (config and
        # system writes have no account, rules and webhooks no person), so bulk writes maintain fewer. occurred_at
        # serves the time filters and the retention purge; appended at the index's right edge, it costs little.
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(
                fields=["account_id", "id"], condition=models.Q(account_id__isnull=False), name="audit_account"
            ),
            models.Index(fields=["user_id", "id"], condition=models.Q(user_id__isnull=False), name="audit_user"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not is_open():
            raise AppendOnlyError
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not is_open():
            raise AppendOnlyError
        return super().delete(*args, **kwargs)

    @property
    def object_type_label(self) -> str:
        """What the trail calls the kind of object, in the reader's language."""
        return str(LABELS.get(self.object_type, self.object_type))

    @property
    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field, before, after) as text, for the trail page, in the reader's language: the field's name and a
        choice's label (`At risk`, not `at_risk`); tags and roles show what was added or removed. The stored
        codes stay in `changes` (CSV, JSON and the API)."""
        fields = _fields_of(self.object_type)
        rows = []
        for name, value in (self.changes or {}).items():
            field = fields.get(name)
            label = str(field.verbose_name) if field is not None else name
            if isinstance(value, dict) and {"added", "removed"} >= value.keys():
                rows.append((label, ", ".join(value.get("removed", [])), ", ".join(value.get("added", []))))
            elif not isinstance(value, list):
                rows.append((label, "", _text(value, field)))
            else:
                before, after = value
                rows.append((label, _text(before, field), _text(after, field)))
        return rows


def _fields_of(object_type: str) -> dict[str, models.Field]:
    """The model's concrete fields by name and by column (`owner` and `owner_id`); none for an unknown type."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return {}
    fields = {}
    for f in model._meta.concrete_fields:
        fields[f.name] = fields[f.attname] = f
    return fields


def _text(value, field: models.Field | None = None) -> str:
    if value is None:
        return "—"
    if field is not None and field.choices and isinstance(value, str | int):
        return str(dict(field.flatchoices).get(value, value))[:500]
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:500]
    return str(value)[:500]
