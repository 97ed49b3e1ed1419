"""Amounts as shoppers read them: "€1,299.00". One place, for the bot's replies and the Rasa server's notices."""

from __future__ import annotations

from typing import Optional

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def money(amount: Optional[float], currency: str = "EUR") -> str:
    """``money(1299, "EUR")`` -> ``"€1,299.00"``; an unknown currency is written before the amount."""
    if amount is None:
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    return f"{symbol}{float(amount):,.2f}"


__all__ = ["CURRENCY_SYMBOLS", "money"]
