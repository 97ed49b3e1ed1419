"""What a chat client can show, as it announces it (``capabilities`` in its session request and messages).

Our widget announces all three; Rasa's stock widgets and REST callers announce none, and get what any
client can show: plain text, buttons, carousels (see web/shopper_lines.py and actions that ask
:func:`actions.common.client_can`).

* ``speakers``: labels agent and notice lines from their ``metadata`` (else the name goes into the text);
* ``cards``: product carousels with prices and ratings;
* ``cart``: the host page has a cart that a card's "Add to cart" fills (else the product's page is offered).
"""

from __future__ import annotations

from typing import Any, FrozenSet, Tuple

SPEAKERS = "speakers"
CARDS = "cards"
CART = "cart"
KNOWN_CAPABILITIES: FrozenSet[str] = frozenset({SPEAKERS, CARDS, CART})


def clean_capabilities(raw: Any) -> Tuple[str, ...]:
    """The known capability names of ``raw`` (a list from the client), sorted; anything else dropped."""
    if not isinstance(raw, (list, tuple)):
        return ()
    return tuple(sorted({item for item in raw[:20] if isinstance(item, str) and item in KNOWN_CAPABILITIES}))


__all__ = ["CARDS", "CART", "KNOWN_CAPABILITIES", "SPEAKERS", "clean_capabilities"]
