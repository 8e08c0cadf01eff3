"""Forms of the win-back pages; each validates input, the services do the work."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import owner_choices
from churnapp.roles import Role
from winback import conf, emailing, texts
from winback.models import ChurnType, IssueType, Offer
from winback.selectors.churn import reason_choices, reason_objects


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why are they leaving?"))
    churn_type = forms.ChoiceField(label=_("Type"), choices=ChurnType.choices, initial=ChurnType.VOLUNTARY)
    competitor = forms.CharField(label=_("Competitor (if any)"), max_length=128, required=False)
    comment = forms.CharField(label=_("In their words"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    effective_on = forms.DateField(
        label=_("Effective date"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("Choose a reason…")), *reason_choices()]


class PauseForm(forms.Form):
    """Pause instead of cancel: the subscriptions rest (no MRR, not churn) and resume on the date given."""

    start_on = forms.DateField(
        label=_("Pause from"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    resume_on = forms.DateField(label=_("Resume on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.ChoiceField(label=_("What made them want to leave? (optional)"), required=False)
    comment = forms.CharField(label=_("In their words"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "—"), *reason_choices()]
        self.fields["resume_on"].initial = timezone.localdate() + dt.timedelta(days=30)

    def clean(self):
        data = super().clean()
        start, resume = data.get("start_on"), data.get("resume_on")
        if start and start < timezone.localdate():
            self.add_error("start_on", _("A pause starts today or later."))
        if start and resume:
            max_days = conf.get("PAUSE_MAX_DAYS")
            if resume <= start:
                self.add_error("resume_on", _("The resume date must be after the pause starts."))
            elif (resume - start).days > max_days:
                self.add_error("resume_on", _("A pause lasts at most %(days)s days.") % {"days": max_days})
        return data


class IssueRouteForm(forms.Form):
    """Who follows up dissatisfied answers of one issue type: a person, else a role's least-loaded member, else the
    account owner; due within `sla_days`."""

    issue_type = forms.ChoiceField(choices=IssueType.choices, widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="—", label=_("Person"))
    role = forms.ChoiceField(required=False, label=_("Else a role"))
    sla_days = forms.IntegerField(min_value=1, max_value=30, label=_("Due in (days)"))

    def __init__(self, *args, row_key: str = "", **kwargs):
        # One form per table row: its fields point at the row's <form> by id (a form cannot wrap table cells).
        row_key = row_key or str((args[0] if args else kwargs.get("data") or {}).get("issue_type", ""))[:32]
        kwargs.setdefault("auto_id", f"route-{row_key}-%s")
        super().__init__(*args, **kwargs)
        self.form_id = f"route-{row_key}"
        for field in self.fields.values():
            field.widget.attrs["form"] = self.form_id
        self.fields["assignee"].queryset = owner_choices()
        self.fields["role"].choices = [
            ("", _("— (account owner)")),
            *((r.value, r.value) for r in Role if r != Role.VIEWER),
        ]


class SurveyAnswerForm(forms.Form):
    """The public answer form; the score range depends on the survey kind."""

    score = forms.IntegerField(
        error_messages={"required": _("Choose a score."), "invalid": _("The score must be a whole number.")}
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=5000)
    issue_type = forms.ChoiceField(
        label=_("If something let you down, what was it mostly about? (optional)"),
        choices=[("", "—"), *IssueType.choices],
        required=False,
    )

    def __init__(self, *args, kind: str = "nps", **kwargs):
        super().__init__(*args, **kwargs)
        self.low, self.high = (0, 10) if kind == "nps" else (1, 5)
        self.fields["comment"].label = (
            _("What is the main reason for your score? (optional)")
            if kind == "nps"
            else _("Anything to add? (optional)")
        )

    def clean_score(self) -> int:
        score = self.cleaned_data["score"]
        if not self.low <= score <= self.high:
            raise forms.ValidationError(
                gettext("Choose a score from %(low)s to %(high)s.") % {"low": self.low, "high": self.high}
            )
        return score


class FollowUpForm(forms.Form):
    note = forms.CharField(label=_("What did you do?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class ClusterNameForm(forms.Form):
    name = forms.CharField(label=_("Theme name"), max_length=64)


class LoopMessageForm(forms.Form):
    since = forms.DateField(
        required=False,
        label=_("Respondents since"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only those who commented on this theme since this day (empty: everyone)."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, initial="You told us, we changed it")
    body = forms.CharField(
        label=_("Body"),
        widget=forms.Textarea(attrs={"rows": 5}),
        initial=(
            "Hi {{ contact.first_name }},\n\nYou told us about {{ theme.name }}. We listened; here is what changed: "
            "…\n\nThank you for telling us.\n{{ owner.name }}"
        ),
    )


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=128)
    offer = forms.ChoiceField(label=_("Offer"), choices=Offer.choices)
    reasons = forms.MultipleChoiceField(label=_("Reasons"), widget=forms.CheckboxSelectMultiple, required=False)
    value_bands = forms.MultipleChoiceField(
        label=_("Value bands"),
        choices=[("low", _("Low value")), ("mid", _("Mid value")), ("high", _("High value"))],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None checked = every band."),
    )
    discount_code = forms.CharField(label=_("Discount code"), max_length=64, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 6}))
    attribution_window_days = forms.IntegerField(
        label=_("Attribution window days"), min_value=1, max_value=365, initial=60
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(r.code, str(r)) for r in reason_objects()]
        if not self.is_bound:
            # A new campaign starts from the "winback-campaign" email template, edited on the email template pages.
            text = emailing.template_text(texts.CAMPAIGN_TEMPLATE)
            self.fields["subject"].initial = text.subject
            self.fields["body"].initial = text.body_text

    def clean(self):
        data = super().clean()
        if data.get("offer") == Offer.DISCOUNT and not data.get("discount_code"):
            self.add_error("discount_code", _("A discount campaign needs a discount code."))
        return data


class ReleaseNoteForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, help_text=_("What shipped, e.g. “Shopify integration”."))
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    url = forms.URLField(label=_("Url"), required=False, assume_scheme="https")
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The churn reasons this fixes: past churners get told."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(r.code, str(r)) for r in reason_objects()]


class SuppressForm(forms.Form):
    reason = forms.CharField(max_length=255, required=False)
