"""`{{ amount|money:currency }}`: a price in the fan's language.

The amount is written with the active language's decimal and thousands
separators and two decimals, followed by the ISO 4217 code, as every page
shows prices ("1,234.50 EUR", in German "1.234,50 EUR"). The code, not a
symbol: "$" alone does not say which dollar.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(amount: Decimal | int | str | None, currency: str = "") -> str:
    """The amount with the active language's separators and the currency code;
    an empty string for no amount (or one that is not a number)."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return ""
    text = number_format(value, decimal_pos=2, force_grouping=True)
    return f"{text} {currency}".strip()
