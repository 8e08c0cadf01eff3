"""Saving email templates (the editor's one write)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from messaging.models import EmailTemplate

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


def email_template_save(
    *, key: str, name: str, subject: str, body_text: str, body_html: str = "", template: EmailTemplate | None = None
) -> EmailTemplate:
    """Create or update a template (by key)."""
    template = template or EmailTemplate.objects.filter(key=key).first() or EmailTemplate(key=key)
    template.key, template.name, template.subject = key, name, subject
    template.body_text, template.body_html = body_text, body_html
    template.full_clean()
    template.save()
    return template
