"""Filters of the book table (segment, health band, billing, role)."""

import django_filters
from django.db.models import Q

from accounts.models import Account, AssignmentRole, Billing
from accounts.risk import AMBER_HEALTH_MAX, RED_HEALTH_MAX

HEALTH_BANDS = (
    ("red", f"Red (≤{RED_HEALTH_MAX})"),
    ("amber", f"Amber ({RED_HEALTH_MAX + 1}-{AMBER_HEALTH_MAX})"),
    ("green", f"Green (≥{AMBER_HEALTH_MAX + 1})"),
    ("unknown", "Unknown"),
)


class BookFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=(), label="Segment", empty_label="Any segment")
    health = django_filters.ChoiceFilter(
        choices=HEALTH_BANDS, method="filter_health", label="Health", empty_label="Any health"
    )
    billing = django_filters.ChoiceFilter(
        choices=Billing.choices, label="Billing", empty_label="Any billing"
    )
    role = django_filters.ChoiceFilter(
        choices=AssignmentRole.choices, method="filter_role", label="Role", empty_label="Any role"
    )

    class Meta:
        model = Account
        fields = ["segment", "health", "billing", "role"]

    def __init__(self, *args, segments=(), roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["segment"].extra["choices"] = [(s, s) for s in segments if s]
        if len(roles) < 2:
            del self.filters["role"]
        else:
            self.filters["role"].extra["choices"] = [(r, AssignmentRole(r).label) for r in roles]

    def filter_health(self, queryset, name, value):
        bands = {
            "red": Q(health_score__lte=RED_HEALTH_MAX),
            "amber": Q(health_score__gt=RED_HEALTH_MAX, health_score__lte=AMBER_HEALTH_MAX),
            "green": Q(health_score__gt=AMBER_HEALTH_MAX),
            "unknown": Q(health_score__isnull=True),
        }
        return queryset.filter(bands[value]) if value in bands else queryset

    def filter_role(self, queryset, name, value):
        # `role` is the book's annotation (the assignment's role), not an account field.
        return queryset.filter(role=value)
