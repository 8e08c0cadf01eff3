"""The typed confirmation of an erasure: the admin types the contact's email (or the account's name) again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ErasureConfirmForm(forms.Form):
    confirmation = forms.CharField(max_length=255, strip=True)

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"]
        if value.casefold() != self.expected.strip().casefold():
            raise forms.ValidationError(_("That is not it: type it exactly as shown to confirm."))
        return value
