"""Rasa add-ons the bot's configuration names (``bot/config.yml``, ``bot/endpoints*.yml``):
the cached SQL tracker store and the cached TED policy; :mod:`rasa_addons.patches` holds every
run-time patch of Rasa and Sanic internals, installed by one call.
"""
