"""The action server fills in the bot's domain, so the Rasa servers need not send it with every call.

Rasa sends the whole domain (responses, forms, slots: ~70 KB of JSON for this bot) with every
action call, including the slot-validation call of every user turn; encoding it was a tenth of
the Rasa server's CPU and decoding it a fifth of the action server's (profiled under
``python -m perf.loadtest``, 5,000 products). The endpoints therefore switch on Rasa's
``enable_selective_domain``, and :func:`install_domain_fill` gives every call that comes without
a domain the one of the bot folder this action server ships with
(:func:`rasa_addons.bot_domain.bot_domain`, in the format Rasa sends). Forms' required slots and the slots to
validate are read from it as before. A call that brings its domain keeps it.
"""

from __future__ import annotations

from typing import Any

from rasa_addons.bot_domain import bot_domain


def with_domain(action_call: Any) -> Any:
    """``action_call`` with the bot's domain when it came without one (other values unchanged)."""
    if isinstance(action_call, dict) and not action_call.get("domain"):
        action_call["domain"] = bot_domain()
    return action_call


def install_domain_fill(app: Any) -> None:
    """Complete the action calls of the action server's Sanic ``app`` (``POST /webhook``)."""
    bot_domain()  # read at start-up: the first call should not wait for it

    @app.middleware("request")
    async def fill_domain(request: Any) -> None:
        if request.method == "POST" and request.path == "/webhook" and not request.headers.get("content-encoding"):
            with_domain(request.json)  # Sanic caches the parsed body: the handler reads this dict
