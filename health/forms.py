from __future__ import annotations

from django import forms


class SentimentForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(5, "5 · very good"), (4, "4 · good"), (3, "3 · neutral"), (2, "2 · poor"), (1, "1 · very poor")],
        coerce=int,
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
