"""Money and ratios, for books and pay alike (pure: no Django).

Zero and one, the one rounding of the product (half-up to the cent), how ratios are stored,
and how money and percentages read on every page and in every explanation."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
ZERO_CENTS = Decimal("0.00")  # zero as money is stored and summed: to the cent
ONE = Decimal("1")
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def to_cents(amount: Decimal) -> Decimal:
    """The one rounding of the product: half-up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_ratio(value: Decimal | None) -> Decimal | None:
    """How a ratio is printed and stored: 6 places, half-up."""
    return None if value is None else value.quantize(MICRO, rounding=ROUND_HALF_UP)





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


def dollars(value: Decimal) -> str:
    """An amount as an explanation prints it: $1,234.57, -$1,234.57 (as every page does)."""
    return format_money(value)


def format_percent(value, places: int = 2, *, signed: bool = False, missing: str = "—") -> str:
    """A fraction as a percentage, half-up: 1.1 -> 110.00%, 0.4567 -> 45.7% with one place;
    `missing` (an em dash unless told) when there is nothing to divide."""
    if value is None or value == "":
        return missing
    if isinstance(value, float):
        raise TypeError("a ratio is never a float")
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    shown = (value * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "+" if signed and shown > 0 else ""
    return f"{sign}{shown}%"
