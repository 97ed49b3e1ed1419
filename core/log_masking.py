"""Masking of personal data (e-mails, order numbers, phone and card numbers,
addresses) in every log line the servers write.

Why a log-record factory and not a handler filter: Rasa and rasa-sdk add their
own coloured console handlers after reading our logging configuration, so a
filter on our handler would miss their output. A record factory masks the
message once, when the record is created, whichever handler prints it.
``bot/logging.yml`` installs it in both servers (``--logging-config-file``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from typing import Any, Callable, Optional

# The lookbehind starts a match only where a run of address characters starts: without it every
# position of a long run is tried again (quadratic: 20,000 letters took 1.5 s per log line).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Card and phone numbers: long runs of digits with optional separators.
LONG_NUMBER = re.compile(r"(?<![\w.])\+?\d(?:[ -]?\d){8,18}(?![\w.])")
# Order, invoice and tracking numbers: an optional letter prefix and 5+ digits.
REFERENCE = re.compile(r"\b[A-Z]{1,5}-?\d{5,}\b", re.I)
# Bare runs of 5+ digits: this shop's 8-digit order numbers, postcodes, account numbers.
# Prices ("79.99") and sizes ("42") stay.
DIGIT_RUN = re.compile(r"(?<![\w.,])\d{5,}(?![\w.,]\d)")

_PATTERNS = [
    # JSON-ish "key": "value" pairs whose key names personal data.
    (
        re.compile(
            r"""(["'](?:[\w-]*address[\w-]*|e-?mail|phone|name|first_name|last_name|street|postcode|zip)["']\s*:\s*["'])[^"']*(["'])""",
            re.I,
        ),
        r"\1***\2",
    ),
    (EMAIL, "<email>"),
    (LONG_NUMBER, "<number>"),
    (REFERENCE, "<reference>"),
    (DIGIT_RUN, "<number>"),
]


def mask_personal_data(text: str) -> str:
    """``text`` with personal data replaced by placeholders."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


SURROGATE_EMAIL = "jane.doe@example.com"  # RFC 2606's domain: never a real shopper's


def _same_shape(match: "re.Match[str]") -> str:
    """Digits replaced by ``10...0`` of the same length, letters and separators kept: an order number
    still looks like one (``10000000``), a card like a card, and nobody's is left."""
    seen_digit = False
    out = []
    for char in match.group(0):
        if char.isdigit():
            out.append("0" if seen_digit else "1")
            seen_digit = True
        else:
            out.append(char)
    return "".join(out)


def scrub_personal_data(text: str) -> str:
    """``text`` with personal data replaced by surrogates of the same shape, for training data: unlike
    :func:`mask_personal_data`'s placeholders, an e-mail stays an e-mail and an order number a number,
    so the intent classifier and the entity extractors learn from what shoppers really type."""
    text = EMAIL.sub(SURROGATE_EMAIL, text)
    for pattern in (LONG_NUMBER, REFERENCE, DIGIT_RUN):
        text = pattern.sub(_same_shape, text)
    return text


def conversation_ref(sender_id: object) -> str:
    """A conversation as logs name it: a short hash, never the id (issued ids unlock the transcript)."""
    return "c:" + hashlib.sha256(str(sender_id).encode("utf-8", "replace")).hexdigest()[:10]


_original_factory: Optional[Callable[..., logging.LogRecord]] = None


def _masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _original_factory is not None
    record = _original_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is the logger's problem, not ours
        return record
    record.msg, record.args = mask_personal_data(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # Handlers format the traceback later from exc_info, and tracebacks quote SQL parameters,
        # exception messages and locals: format it now, masked, and keep only the masked text.
        record.exc_text = mask_personal_data("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info)
    return record


class _PassThrough(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return True


def install_log_masking() -> logging.Filter:
    """Install the masking record factory process-wide (idempotent).

    Returns a pass-through filter so that ``logging.config.dictConfig`` can
    call it from a ``filters:`` entry (that is how ``bot/logging.yml`` runs it).
    """
    global _original_factory
    if _original_factory is None:
        _original_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_masking_factory)
        # Rasa warns through the warnings module (printed to stderr, bypassing logging): route those
        # warnings through logging, so they are masked like every other line.
        logging.captureWarnings(True)
    return _PassThrough()
