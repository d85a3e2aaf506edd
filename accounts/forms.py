"""Forms of the accounts pages. They only parse input; the service decides what is allowed."""

from django import forms

from accounts.models import AssignmentRole, Person


class OwnerChoice(forms.ModelChoiceField):
    """A person with the book roles they hold, so a manager picks someone who holds the role."""

    def label_from_instance(self, person):
        held = [AssignmentRole(r).label for r in person.roles if r in AssignmentRole.values]
        return f"{person.name} ({', '.join(held)})" if held else person.name


class ReassignForm(forms.Form):
    role = forms.ChoiceField(choices=AssignmentRole.choices)
    new_owner = OwnerChoice(queryset=Person.objects.none(), label="New owner")
    effective_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The new owner holds the account from this day; the current owner until "
        "the day before.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    cap_override_reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Cap override reason",
        help_text="Only needed to put an AE over the cap of accounts plus open leads.",
    )

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        if team is not None:
            self.fields["new_owner"].queryset = team

    def clean(self):
        data = super().clean()
        owner, role = data.get("new_owner"), data.get("role")
        if owner is not None and role and role not in owner.roles:
            self.add_error("new_owner", f"{owner.name} does not hold the "
                                        f"{AssignmentRole(role).label} role.")
        return data


def form_errors(form: forms.Form) -> str:
    """All of a form's errors in one line, for a message."""
    parts = []
    for name, errors in form.errors.items():
        label = (
            form.fields[name].label or name.replace("_", " ").capitalize()
            if name in form.fields
            else ""
        )
        for error in errors:
            parts.append(f"{label}: {error}" if label else str(error))
    return " ".join(parts)


class MetricsFilterForm(forms.Form):
    """The metrics page's filters: one segment (or all of them) and the as-of day."""

    segment = forms.ChoiceField(required=False, label="Segment")
    on = forms.DateField(
        required=False, label="As of", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", "Every segment")] + [(s, s) for s in segments]
