"""The ``shop`` command: one entry point for what people do with the assistant (:mod:`cli.shop`)."""
