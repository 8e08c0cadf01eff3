"""Who is acting and through which door, for the entries written while they act.

A request sets the door from its path and leaves the actor to be read from the request when an entry is written
(DRF authenticates API keys inside the view, after the middleware ran). Workers, imports, rules and playbooks say
who they are with `acting(...)`; a task with nothing more specific is the system acting through the worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from celery.signals import task_postrun, task_prerun

from audit.models import ActorKind, Door


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    label: str = ""
    user_id: int | None = None

    @classmethod
    def of_user(cls, user) -> Actor:
        return cls(ActorKind.USER, str(user.pk), user.get_username(), user.pk)


SYSTEM = Actor(ActorKind.SYSTEM, label="churnapp")


@dataclass(frozen=True)
class Scope:
    door: str
    actor: Actor | None = None
    request: object | None = None


_scope: ContextVar[Scope | None] = ContextVar("audit_scope", default=None)

REQUEST_DOORS = (("/api/", Door.API), ("/v1/", Door.TRACKING), ("/webhooks/", Door.WEBHOOK), ("/admin/", Door.ADMIN))


def door_of_path(path: str) -> str:
    return next((door for prefix, door in REQUEST_DOORS if path.startswith(prefix)), Door.UI)


@contextmanager
def acting(*, door: str | None = None, actor: Actor | None = None) -> Iterator[None]:
    """Entries written inside are by `actor` through `door`; either keeps the surrounding scope's value when None."""
    outer = _scope.get()
    scope = Scope(
        door=door or (outer.door if outer else Door.WORKER),
        actor=actor or (outer.actor if outer else None),
        request=outer.request if outer and not actor else None,
    )
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)


def _actor_of_request(request) -> Actor | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    key = getattr(user, "api_key", None)
    if key is not None:
        return Actor(ActorKind.API_KEY, str(key.pk), key.name, key.created_by_id)
    return Actor.of_user(user)


def current() -> tuple[str, Actor]:
    """The door and the actor of an entry written now."""
    scope = _scope.get()
    if scope is None:
        return Door.WORKER, SYSTEM
    actor = scope.actor or (_actor_of_request(scope.request) if scope.request is not None else None)
    return scope.door, actor or SYSTEM


class AuditMiddleware:
    """Each request's writes are recorded with its door and, once authenticated, its user or API key."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _scope.set(Scope(door=door_of_path(request.path_info), request=request))
        try:
            return self.get_response(request)
        finally:
            _scope.reset(token)


def _task_started(task=None, **kwargs) -> None:
    task.request.audit_token = _scope.set(Scope(door=Door.WORKER, actor=Actor(ActorKind.SYSTEM, label=task.name)))


def _task_finished(task=None, **kwargs) -> None:
    token = getattr(task.request, "audit_token", None)
    if token is not None:
        _scope.reset(token)


def connect_worker_signals() -> None:
    task_prerun.connect(_task_started, weak=False, dispatch_uid="audit-task-started")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="audit-task-finished")
