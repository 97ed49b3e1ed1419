"""Cross-cutting pieces of the shop assistant: settings, logging and the launcher.

Everything a shop configures (database URL, index folder, model paths, secrets)
is read in one place, :mod:`assistant.settings`, so actions, the NLU component,
the web channel and the command-line tools agree on where things live.
"""
