"""The shop's chat channel for Rasa, the widget and demo page, and the agent console.

``web.channel.ShopChannel`` is a Rasa input channel (socket.io + REST) that also serves the widget,
a demo shop page and the agent console; the live side of the hand-off (sockets, Rasa's tracker)
is :mod:`web.live_handoff`, its data :mod:`handoff`.
"""
