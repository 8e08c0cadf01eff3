from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountStatus, ActivityKind, SavedView, TaskPriority
from accounts.selectors import owner_choices


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k, label) for k, label in ActivityKind.choices if k != ActivityKind.CHANGE],
        initial=ActivityKind.NOTE,
    )
    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label=_("Note"))


class TaskForm(forms.Form):
    title = forms.CharField(max_length=255)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    priority = forms.ChoiceField(choices=TaskPriority.choices, initial=TaskPriority.NORMAL)
    assignee = UserChoiceField(queryset=None, required=False, empty_label=_("Account owner"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = owner_choices()


class TaskCompleteForm(forms.Form):
    outcome = forms.CharField(max_length=2000, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=AccountStatus.choices)


class OwnerForm(forms.Form):
    owner = UserChoiceField(queryset=None, required=False, empty_label=_("Unassigned"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices()


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "query", "shared"]
        widgets = {"query": forms.HiddenInput}
