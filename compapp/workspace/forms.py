"""Forms of the team pages (hand-offs, feature requests). They only parse input; the
services decide what is allowed."""

from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.models import FeatureRequest, Person, Role

YES_NO = (("", "—"), ("yes", "Yes"), ("no", "No"))


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class ContactForm(forms.Form):
    """One active user of the account and whether the AE tried several times to reach them."""

    user = forms.CharField(required=False, max_length=200, label="Active user (name or email)")
    contacted = forms.BooleanField(required=False, label="Contacted several times")
    notes = forms.CharField(required=False, max_length=2000, label="Notes")


def contact_formset(rows: int, data=None, initial=None) -> forms.BaseFormSet:
    """One form per active user of the account (`rows` of them)."""
    initial = list(initial or [])[:rows]
    formset_class = forms.formset_factory(
        ContactForm, extra=max(0, rows - len(initial)), max_num=rows, validate_max=True
    )
    return formset_class(data, initial=initial, prefix="contact")


class HandoffForm(forms.Form):
    to_csm = forms.ModelChoiceField(queryset=Person.objects.none(), label="Proposed CSM")
    effective_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The CSM holds the account from this day; you until the day before.",
    )
    other_team_could_use = forms.ChoiceField(
        choices=YES_NO,
        required=False,
        label="Could another team of the customer use the product?",
    )
    other_team_notes = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="Notes"
    )
    teams_enterprise_would_help = forms.ChoiceField(
        choices=YES_NO,
        required=False,
        label="Would Teams or Enterprise features help them?",
    )
    teams_enterprise_notes = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="Notes"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["to_csm"].queryset = (
            Person.objects.filter(roles__contains=[Role.CSM.value])
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .order_by("name")
        )

    def answers(self) -> dict:
        data = self.cleaned_data
        return {
            "to_csm": data["to_csm"],
            "effective_date": data["effective_date"],
            "other_team_could_use": _yes_no(data["other_team_could_use"]),
            "other_team_notes": data["other_team_notes"],
            "teams_enterprise_would_help": _yes_no(data["teams_enterprise_would_help"]),
            "teams_enterprise_notes": data["teams_enterprise_notes"],
        }


class HandoffDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=(("approve", "Approve"), ("send_back", "Send back")))
    comment = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to send it back: say what is left to do.",
    )


class FeatureRequestForm(forms.ModelForm):
    class Meta:
        model = FeatureRequest
        fields = ("request", "importance", "status", "churn_risk")
        labels = {
            "request": "What the customer asked for",
            "importance": "How much they care",
            "churn_risk": "Could churn over this",
        }
        widgets = {"request": forms.Textarea(attrs={"rows": 3})}


class FeatureRequestStatusForm(forms.ModelForm):
    class Meta:
        model = FeatureRequest
        fields = ("status", "churn_risk")
        labels = {"churn_risk": "Churn risk"}


class FeatureRequestFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        choices=FeatureRequest.Status.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    importance = forms.ChoiceField(
        choices=(("", "any"), *FeatureRequest.Importance.choices), required=False
    )
    churn_risk = forms.BooleanField(required=False, label="Churn risk only")
