"""Server logs as text or, with ``SHOP_LOG_FORMAT=json``, one JSON object per line (structlog's
formatter over the standard ``logging`` records).

Both servers read ``bot/logging.yml``, whose filter entry calls :func:`install_server_logging`: it
installs the masking of personal data (``core.log_masking``, applied when a record is created,
so JSON lines are masked too) and, in JSON mode, the JSON formatter on the console handlers.
Rasa and rasa-sdk install their coloured console handler (``coloredlogs.install``) before or after
reading that file depending on the server, so JSON mode formats the handlers already there and
makes later ``coloredlogs.install`` calls add a JSON handler instead.

:func:`bind` adds fields to every line logged in the current task (the turn's conversation hash,
the model version); a record's ``extra`` fields (timings) are added to its line too.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Any, Iterator, MutableMapping

import structlog

from core.log_masking import install_log_masking
from core.settings import get_settings

# Loggers that Sanic and rasa-sdk give console handlers of their own.
_HANDLER_LOGGERS = ("", "sanic.root", "sanic.error", "sanic.access", "rasa_sdk")


def _exception_text(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The masked traceback (the masking record factory keeps it in ``exc_text``, not ``exc_info``)."""
    record = event.get("_record")
    text = getattr(record, "exc_text", None)
    if text:
        event["exception"] = text
    return event


def json_formatter() -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _exception_text,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
    )


def is_json(handler: logging.Handler) -> bool:
    return isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)


def use_json_logs() -> None:
    """Every console handler formats JSON, now and after any later ``coloredlogs.install``."""
    formatter = json_formatter()
    for name in _HANDLER_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        root.addHandler(handler)

    import coloredlogs

    def json_install(level: Any = None, **_: Any) -> None:
        """``coloredlogs.install`` in JSON mode: the level, and JSON on root's console handlers."""
        if level is not None:
            root.setLevel(level if isinstance(level, int) else logging.getLevelName(str(level).upper()))
        for handler in root.handlers:
            if not is_json(handler):
                handler.setFormatter(formatter)

    coloredlogs.install = json_install


def install_server_logging() -> logging.Filter:
    """Masking always, JSON lines when ``SHOP_LOG_FORMAT=json``; returns the pass-through filter that
    ``logging.config.dictConfig`` needs (``bot/logging.yml`` calls this from a ``filters:`` entry)."""
    passthrough = install_log_masking()
    if get_settings().log_format == "json":
        use_json_logs()
    return passthrough


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every JSON line logged inside the block (in this task or thread)."""
    tokens = structlog.contextvars.bind_contextvars(**fields)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


__all__ = ["bind", "install_server_logging", "json_formatter", "use_json_logs"]
