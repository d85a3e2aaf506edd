"""The Decimal vocabulary of the plans: zero and one, the one rounding of the product (half-up
to the cent), and how ratios and dollars are printed in an explanation."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
ONE = Decimal("1")
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def to_cents(amount: Decimal) -> Decimal:
    """The one rounding of the product: half-up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_ratio(value: Decimal | None) -> Decimal | None:
    """How a ratio is printed and stored: 6 places, half-up."""
    return None if value is None else value.quantize(MICRO, rounding=ROUND_HALF_UP)


def dollars(value: Decimal) -> str:
    """An amount as an explanation prints it: $1,234.57."""
    return f"${to_cents(value):,.2f}"
