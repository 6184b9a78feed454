"""robot.secrets: the Secret type, redaction, the logging filter."""
from __future__ import annotations

import io
import json
import logging
import pickle
import uuid
from urllib.parse import quote, quote_plus

import pytest

from robot import secrets
from robot.secrets import MASK, RedactingFilter, Secret, redact


def fresh(prefix: str = "s3cr3t") -> str:
    """A unique secret value (the registry is process-wide)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_secret_hides_itself_everywhere():
    value = fresh()
    s = Secret(value, "tfc password")
    # each way of turning a value into text on purpose, the old-style ones included
    shown_forms = (str(s), repr(s), f"{s}", f"{s!r}", f"{s:>40}",
                   "%s" % s,  # noqa: UP031 -- %-formatting is one of the forms under test
                   "{}".format(s),  # noqa: UP032 -- str.format is one of the forms under test
                   str([s]), str({"k": s}))
    for shown in shown_forms:
        assert value not in shown
        assert MASK in shown
    assert repr(s) == f"Secret(tfc password={MASK})"
    assert s.reveal() == value


def test_secret_cannot_be_pickled():
    s = Secret(fresh())
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [s]})


def test_secret_is_immutable_and_compares_by_value():
    value = fresh()
    a, b = Secret(value, "a"), Secret(value, "b")
    assert a == b and hash(a) == hash(b)
    assert a != Secret(fresh())
    assert (a == value) is False  # never equal to a plain string
    with pytest.raises(AttributeError):
        a.name = "x"
    with pytest.raises(AttributeError):
        a._value = "x"
    assert bool(a) and not bool(Secret(""))


def test_secret_wraps_a_secret_and_refuses_non_strings():
    value = fresh()
    assert Secret(Secret(value)).reveal() == value
    with pytest.raises(TypeError):
        Secret(12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Secret(None)  # type: ignore[arg-type]


def test_secret_is_registered_on_creation():
    value = fresh()
    assert value not in secrets.registered_values()
    Secret(value)
    assert value in secrets.registered_values()


def test_redact_plain_and_encoded_forms():
    value = "p@ss w/rd&=+" + uuid.uuid4().hex[:6]
    Secret(value)
    assert redact(f"password={value}!") == f"password={MASK}!"
    assert value not in redact(f"url?pw={quote(value, safe='')}")
    assert quote(value, safe="") not in redact(f"url?pw={quote(value, safe='')}")
    assert quote_plus(value) not in redact(f"form: pw={quote_plus(value)}&x=1")
    json_text = json.dumps({"password": value + '"\\'})
    assert value not in redact(json_text)
    assert redact("nothing to hide") == "nothing to hide"
    assert redact("") == "" and redact(None) is None


def test_redact_json_escaped_form():
    value = 'quote"back\\slash-' + uuid.uuid4().hex[:6]
    Secret(value)
    text = json.dumps({"secret": value})
    assert json.dumps(value)[1:-1] in text
    assert MASK in redact(text) and "back" not in redact(text)


def test_redact_longest_first():
    short = "abcd" + uuid.uuid4().hex[:4]
    long = short + "-longer-part"
    secrets.register(short)
    secrets.register(long)
    assert redact(f"x {long} y") == f"x {MASK} y"


def test_short_values_are_not_registered():
    secrets.register("abc")
    assert "abc" not in secrets.registered_values()
    assert redact("abc cab") == "abc cab"


@pytest.fixture
def logger():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    log = logging.getLogger(f"test-secrets-{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    yield log, stream
    log.removeHandler(handler)


def test_filter_redacts_message_and_args(logger):
    log, stream = logger
    value = fresh("pw")
    s = Secret(value)
    log.info("signing in with %s", value)
    log.info("password=" + value)
    log.info("as mapping %(pw)s", {"pw": value})
    log.info("wrapped %s", s)
    log.info("encoded %s", quote_plus(value + " x"))
    log.info("count %d of %d", 1, 2)
    out = stream.getvalue()
    assert value not in out
    assert out.count(MASK) >= 4
    assert "count 1 of 2" in out


def test_filter_redacts_exceptions(logger):
    log, stream = logger
    value = fresh("exc")
    Secret(value)
    try:
        raise RuntimeError(f"token endpoint said: bad client_assertion={value}")
    except RuntimeError:
        log.exception("step failed for %s", "example-org-1")
    out = stream.getvalue()
    assert value not in out
    assert "Traceback" in out and "RuntimeError" in out and MASK in out
    assert "step failed for example-org-1" in out


def test_filter_on_logger_level(caplog):
    value = fresh("lg")
    Secret(value)
    log = logging.getLogger(f"test-secrets-{uuid.uuid4().hex}")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger=log.name):
        log.info("value %s", value)
    assert value not in caplog.text and MASK in caplog.text
