"""The configuration page's forms: upload a bundle (a file or pasted text), then confirm the plan."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from configuration.bundle.text import MAX_BYTES


class BundleUploadForm(forms.Form):
    file = forms.FileField(label=_("Bundle file (YAML or JSON)"), required=False)
    text = forms.CharField(label=_("Or paste it here"), widget=forms.Textarea(attrs={"rows": 8}), required=False)
    prune = forms.BooleanField(label=_("Also delete what the file leaves out"), required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError(_("The file is over 5 MB."))
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from exc
        if not (data.get("text") or "").strip():
            raise forms.ValidationError(_("Choose a bundle file or paste one."))
        return data


class BundleConfirmForm(forms.Form):
    """The uploaded text carried to the confirmation: it is planned again before it is applied."""

    text = forms.CharField(widget=forms.HiddenInput, max_length=MAX_BYTES, strip=False)
    prune = forms.BooleanField(widget=forms.HiddenInput, required=False)
