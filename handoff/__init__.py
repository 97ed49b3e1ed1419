"""The human hand-off as data: agents, tickets and their messages (the store), the transcript and
summary an agent gets, ticket creation with its per-client limit, and the shopper's data rights.
The live side (sockets, the console) is in :mod:`web`.
"""
