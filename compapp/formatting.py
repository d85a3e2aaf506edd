"""How money reads on every page: $1,234.56, -$1,234.56, rounded half-up like payouts."""

from decimal import Decimal

from payouts.rules import to_cents


def format_money(value, *, signed: bool = False) -> str:
    """$1,234.56, -$1,234.56 (or +$1,234.56 with `signed`); empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    value = to_cents(value if isinstance(value, Decimal) else Decimal(str(value)))
    if value == 0:
        value = abs(value)  # no "-$0.00"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}${abs(value):,.2f}"
