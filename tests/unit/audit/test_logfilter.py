"""The log filter keeps email addresses and card numbers out of what is logged."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from troth.audit.logfilter import SCRUB_FILTER, UVICORN_LOGGERS, ScrubFilter, install_log_scrubbing

CARD = "4111 1111 1111 1111"


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a scrubbing handler into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ScrubFilter())
    logger = logging.getLogger("tests.audit.scrub")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, buffer
    logger.removeHandler(handler)


def test_se1_email_and_card_in_arguments_are_scrubbed(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = written
    logger.info("sent to %s, paid with %s", "ann@example.com", CARD)
    assert buffer.getvalue() == "sent to [email], paid with [card]\n"


def test_se1_email_in_the_message_itself_is_scrubbed(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = written
    logger.warning("bounce from bob@example.org")
    assert buffer.getvalue() == "bounce from [email]\n"


def test_se1_mapping_arguments_are_scrubbed(written: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = written
    logger.info("%(who)s", {"who": "ann@example.com"})
    assert buffer.getvalue() == "[email]\n"


def test_se1_personal_value_inside_an_object_argument_is_scrubbed(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = written
    logger.info("payload %s", {"email": "ann@example.com", "n": 4111111111111111})
    assert buffer.getvalue() == "payload {'email': '[email]', 'n': [card]}\n"


def test_se1_tracebacks_are_scrubbed(written: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = written
    try:
        raise ValueError("no account for ann@example.com")
    except ValueError:
        logger.exception("lookup failed")
    output = buffer.getvalue()
    assert "ValueError: no account for [email]" in output
    assert "ann@example.com" not in output


def test_se1_uvicorn_access_lines_keep_their_shape() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/unsubscribe?to=ann%40example.com", "1.1", 200), None,
    )
    assert ScrubFilter().filter(record)
    line = AccessFormatter(fmt="%(message)s", use_colors=False).format(record)
    assert line == '127.0.0.1:5000 - "GET /unsubscribe?to=[email] HTTP/1.1" 200'


def test_se1_install_attaches_to_root_handlers_and_uvicorn_loggers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = logging.getLogger()
    assert caplog.handler in root.handlers
    try:
        install_log_scrubbing()
        install_log_scrubbing()  # a second call adds nothing
        assert caplog.handler.filters.count(SCRUB_FILTER) == 1
        for name in UVICORN_LOGGERS:
            assert logging.getLogger(name).filters.count(SCRUB_FILTER) == 1
        assert logging.lastResort is not None
        assert SCRUB_FILTER in logging.lastResort.filters
        logging.getLogger("troth.anything").warning("mail %s", "ann@example.com")
        assert caplog.messages[-1] == "mail [email]"
        assert "ann@example.com" not in caplog.text
    finally:
        others = [logging.lastResort, *(logging.getLogger(n) for n in UVICORN_LOGGERS)]
        for target in [*root.handlers, *others]:
            if target is not None:
                target.removeFilter(SCRUB_FILTER)
