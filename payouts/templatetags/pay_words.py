"""Pay's keys as the words pages show: `{{ line.bucket|bucket }}`, `{{ status|payout_status }}`.
Exports keep the keys of the data contract; only pages use these."""

from django import template

from payouts.models import PayoutStatus
from payouts.tables import bucket_label

register = template.Library()


@register.filter
def bucket(value):
    return bucket_label(value) if value else value


@register.filter
def payout_status(value):
    if not value:
        return value
    try:
        return PayoutStatus(value).label
    except ValueError:
        return value.replace("_", " ")
