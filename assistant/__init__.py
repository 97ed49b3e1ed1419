"""The assistant as a whole: start-up (the launcher that supervises the servers, its preflight checks)
and the ``shop`` command line (start, build the shop data, train, agents, reports, benchmarks).

The top layer: it may import every package; none imports it.
"""
