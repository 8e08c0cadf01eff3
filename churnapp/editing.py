"""The shape every editor page shares: a bound form, a service that saves what it cleaned, and the service's
refusal shown on the form (never a 500), with a success message once saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def form_save(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict], Any],
    *,
    refusals: tuple[type[Exception], ...] = (ValueError, ValidationError),
    saved: Callable[[Any], str],
) -> Any | None:
    """Validate `form` and call `save(cleaned_data)`. A refusal of the service becomes a form-wide error and None is
    returned (re-render the form); otherwise the `saved(obj)` message is flashed and the saved object returned."""
    if not form.is_valid():
        return None
    try:
        obj = save(form.cleaned_data)
    except refusals as exc:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
        return None
    messages.success(request, saved(obj))
    return obj


def errors_text(errors: dict[str, list[str]]) -> str:
    """A form's or a ValidationError's errors in one line for a flash message: "field name: why; …" (form-wide
    errors without a field name)."""
    return "; ".join(
        " ".join(messages_) if field in ("__all__", "") else f"{field.replace('_', ' ')}: {' '.join(messages_)}"
        for field, messages_ in errors.items()
    )
