"""Project-level models: API keys for integrations, the first start's setup steps and service heartbeats."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiScope(models.TextChoices):
    INGEST = "ingest", _("Ingest (tracking API /v1/… and event ingestion only; safe in client apps)")
    READ = "read", _("Read (GET on the REST API)")
    WRITE = "write", _("Write (create, update, delete on the REST API, CRM and helpdesk sync included)")
    CONFIG = "config", _("Configuration (the configuration API and bundle: rules, playbooks, profiles, templates…)")
    ADMIN = "admin", _("Admin (everything)")


class ApiKey(models.Model):
    """A secret an integration authenticates with. Only a SHA-256 hash of the secret is stored.

    The full key reads `ck_<prefix>_<secret>`; `prefix` finds the row, the hash proves the secret. Scopes limit
    what the key may do (enforced by `churnapp.authentication.HasApiKeyScope`).
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list, help_text="Any of ingest, read, write, config, admin.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (ck_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return ApiScope.ADMIN in self.scopes or scope in self.scopes


class SetupStep(models.Model):
    """One step of the first start (`manage.py bootstrap`) and whether it completed.

    Bootstrap runs each derived step (snapshots, rollups, health backfill, model, …) once; a step that failed or
    never ran is run again by the next `make run`, so a start that was interrupted always ends in a complete demo.
    """

    name = models.CharField(max_length=64, unique=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="How long the last run took.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({'done' if self.completed_at else 'pending'})"


class ServiceHeartbeat(models.Model):
    """When a background component last proved alive: `beat` (the scheduler published a task) and
    `worker:<queue>` (a worker consuming that queue ran the heartbeat task). Read by /healthz/."""

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class UserPreference(models.Model):
    """A person's own settings. `language` empty means "the browser's language"."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)

    def __str__(self) -> str:
        return f"{self.user} preferences"
