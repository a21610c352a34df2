"""What a call costs: a price table per model, in US dollars per million tokens.

The defaults are the providers' published list prices (mid-2025) for the models this
product is likely to be pointed at; ``LLM_PRICES`` (JSON, ``{"model": [input, output]}``)
adds or overrides entries — a self-hosted model is ``[0, 0]``. A model is looked up by
its exact name, then by the longest entry its name starts with (``claude-sonnet-4``
prices ``claude-sonnet-4-20250514``). A model found nowhere has an unknown cost (None),
never a guessed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MILLION = Decimal(1_000_000)

#: (input, output) USD per million tokens.
DEFAULT_PRICES: dict[str, tuple[str, str]] = {
    # Anthropic
    "claude-opus-4": ("15", "75"),
    "claude-sonnet-4": ("3", "15"),
    "claude-3-7-sonnet": ("3", "15"),
    "claude-3-5-sonnet": ("3", "15"),
    "claude-3-5-haiku": ("0.80", "4"),
    "claude-haiku-4": ("1", "5"),
    # OpenAI
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1": ("2", "8"),
    # Mistral
    "mistral-large": ("2", "6"),
    "mistral-medium": ("0.40", "2"),
    "mistral-small": ("0.10", "0.30"),
}


class PriceTableError(ValueError):
    pass


def price_table(overrides: Mapping | None = None) -> dict[str, tuple[Decimal, Decimal]]:
    """The default table with ``overrides`` (the ``LLM_PRICES`` setting) applied."""
    table = {name: (Decimal(i), Decimal(o)) for name, (i, o) in DEFAULT_PRICES.items()}
    for name, pair in (overrides or {}).items():
        try:
            given_in, given_out = pair
            price_in, price_out = Decimal(str(given_in)), Decimal(str(given_out))
        except (TypeError, ValueError, InvalidOperation):
            raise PriceTableError(
                _(
                    "LLM_PRICES: the price of “%(model)s” must be [input, output] in USD per million tokens."
                )
                % {"model": name}
            ) from None
        if price_in < 0 or price_out < 0 or not price_in.is_finite() or not price_out.is_finite():
            raise PriceTableError(
                _(
                    "LLM_PRICES: the price of “%(model)s” must be [input, output] in USD per million tokens."
                )
                % {"model": name}
            )
        table[str(name)] = (price_in, price_out)
    return table


def price_of(
    model: str, table: Mapping[str, tuple[Decimal, Decimal]]
) -> tuple[Decimal, Decimal] | None:
    if model in table:
        return table[model]
    candidates = [name for name in table if model.startswith(name)]
    if not candidates:
        return None
    return table[max(candidates, key=len)]


def cost(
    model: str,
    input_tokens: int,
    output_tokens: int,
    table: Mapping[str, tuple[Decimal, Decimal]],
) -> Decimal | None:
    """USD for one call, to the micro-dollar (``generation_requests.cost_usd``), or None
    for a model missing from the table."""
    price = price_of(model, table)
    if price is None:
        return None
    total = (Decimal(input_tokens) * price[0] + Decimal(output_tokens) * price[1]) / MILLION
    return total.quantize(Decimal("0.000001"))
