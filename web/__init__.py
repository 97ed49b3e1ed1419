"""The shop's chat widget channel, the agent console and the human hand-off.

``web.channel.ShopChannel`` is a Rasa input channel (socket.io + REST) that
also serves the widget, a demo shop page and the agent console; the hand-off
tickets live in the shop database (``web.models``, ``web.store``) and the
action server opens them with ``actions.handoff``.
"""
