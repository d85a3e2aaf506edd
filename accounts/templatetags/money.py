"""Money in templates the one way pages print it: `{{ value|money }}` is $1,234.56."""

from django import template

from accounts.money import format_money

register = template.Library()


@register.filter
def money(value):
    return format_money(value)
