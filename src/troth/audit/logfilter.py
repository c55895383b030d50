"""Keep email addresses and card numbers out of the application logs.

The filter scrubs each record in place: the message template, string arguments (so
formatters that read the arguments themselves, like uvicorn's access log, still work),
the traceback text and the stack text. When something personal survives that, e.g. in a
non-string argument, the record is collapsed to its scrubbed, fully formatted message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from troth.audit.personal import scrub

UVICORN_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error")


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        record.args = _scrub_args(record.args)
        _scrub_exception(record)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        _collapse_if_needed(record)
        return True


def _scrub_value(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


def _scrub_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return {key: _scrub_value(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(_scrub_value(value) for value in args)
    return args


def _scrub_exception(record: logging.LogRecord) -> None:
    # Formatters reuse exc_text once it is set, so the scrubbed text is what gets written.
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)


def _collapse_if_needed(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        message = f"{record.msg} {record.args!r}"
    clean = scrub(message)
    if clean != message or not isinstance(record.msg, str):
        record.msg, record.args = clean, ()


SCRUB_FILTER = ScrubFilter()


def _attach(target: logging.Logger | logging.Handler) -> None:
    if SCRUB_FILTER not in target.filters:
        target.addFilter(SCRUB_FILTER)


def install_log_scrubbing() -> None:
    """Scrub everything the root logger's handlers and uvicorn's loggers write.

    Call it after logging is configured: handlers added later are not covered. The
    filter sits on uvicorn's loggers themselves as well as on their handlers, so it
    survives uvicorn replacing its handlers when it starts.
    """
    for handler in logging.getLogger().handlers:
        _attach(handler)
    if logging.lastResort is not None:  # writes warnings when the root has no handler
        _attach(logging.lastResort)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        _attach(logger)
        for handler in logger.handlers:
            _attach(handler)
