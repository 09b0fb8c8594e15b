"""server/logs.py: text and JSON lines, each with the request id of the work
under way (models/tracing.py)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from models import tracing
from server import logs


def emit(log_format: str, name: str, message: str, *args, **extra) -> str:
    stream = io.StringIO()
    logger = logging.getLogger(name)
    handler = logs.handler_for(log_format, stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info(message, *args, extra=extra or None)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_text_line_shows_the_request_id_when_there_is_one():
    assert emit("text", "circles.t", "plain").endswith(" INFO circles.t: plain\n")
    with tracing.bound("req-0123456789"):
        assert emit("text", "circles.t", "in %s", "a request").endswith(
            " INFO circles.t [req-0123456789]: in a request\n")


def test_a_json_line_is_one_object_with_the_request_id_and_extras():
    with tracing.bound("req-0123456789"):
        line = emit("json", "circles.t", "line\nbreak %d", 2, activity_id="https://a.example/1")
    assert line.count("\n") == 1  # one line, whatever the message holds
    data = json.loads(line)
    assert data["message"] == "line\nbreak 2"
    assert data["request_id"] == "req-0123456789" and data["activity_id"] == "https://a.example/1"
    assert data["level"] == "INFO" and data["logger"] == "circles.t" and data["time"].endswith("+00:00")


def test_hypercorns_access_line_takes_the_request_id_of_its_response():
    # hypercorn logs the access line after the request's task ended: the id comes from the response header.
    atoms = {"h": "127.0.0.1", "r": "GET / HTTP/1.1", "s": 200, "{x-request-id}o": "abc-0123456789"}
    data = json.loads(emit("json", logs.ACCESS_LOGGER, '%(h)s "%(r)s" %(s)s', atoms))
    assert data["request_id"] == "abc-0123456789" and data["message"] == '127.0.0.1 "GET / HTTP/1.1" 200'


@pytest.mark.parametrize(("offered", "kept"), [
    ("0f9c2b1e-7d4a-4c1b-9a55-3e2f1d0c9b8a", True), ("nginx.req:42abc", True),
    (None, False), ("", False), ("short", False), ("x" * 65, False), ("two words here", False),
    ("line\nbreak-0123", False), ("é-0123456789", False),
])
def test_an_incoming_request_id_is_kept_only_when_short_and_safe(offered, kept):
    chosen = tracing.accepted(offered)
    assert (chosen == offered) is kept
    assert len(chosen) <= tracing.MAX_LENGTH


def test_bound_restores_the_outer_id():
    with tracing.bound("outer-0123456789"):
        with tracing.bound(None):
            assert tracing.current() is None
        assert tracing.current() == "outer-0123456789"
    assert tracing.current() is None
