"""Forms of the messaging pages: email templates and outgoing webhook endpoints."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from messaging import webhooks
from messaging.models import EmailTemplate, WebhookEvent


class EmailTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["key", "name", "subject", "body_text", "body_html"]
        widgets = {"body_text": forms.Textarea(attrs={"rows": 8}), "body_html": forms.Textarea(attrs={"rows": 4})}
        labels = {
            "key": pgettext_lazy("identifier", "Key"),
            "name": _("Name"),
            "subject": _("Subject"),
            "body_text": _("Body text"),
            "body_html": _("Body html"),
        }


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(max_length=500, assume_scheme="https")
    description = forms.CharField(max_length=200, required=False, label=_("Description"))
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, label=_("Events")
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhooks.check_url(url)
        except webhooks.UnsafeUrl as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url
