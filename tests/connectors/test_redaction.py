"""A connector's secrets never leave it: ``Redactor`` recognises each known value however an
echoed request encoded it, ``Caller.call`` lets no error out that says one, and the loggers
that carry connector text drop them too."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import traceback
from urllib.parse import quote, quote_plus

import pytest

from deskhand.connectors.calls import Breakers, Caller
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import AuthenticationError, ConnectorError
from deskhand.connectors.redaction import MIN_LENGTH, RECENT, Redactor

SECRET = "Qx7~client/secret+val=ue ü"  # characters every encoding changes
MARK = "[redacted: Graph client secret]"


@pytest.fixture
def redact() -> Redactor:
    return Redactor({"Graph client secret": SECRET})


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


ECHOES = {
    "as it is": f"client_secret was {SECRET}",
    "form body": f"grant_type=client_credentials&client_secret={quote_plus(SECRET)}&scope=x",
    "query, lower-case hex": "GET /me?api_key="
    + re.sub("%[0-9A-F]{2}", lambda hexed: hexed[0].lower(), quote(SECRET, safe=""))
    + " HTTP/1.1",
    "query, '/' left alone": f"GET /me?api_key={quote(SECRET, safe='/')}",
    "Basic header": f"Authorization: Basic {_basic('svc@client.example', SECRET)}",
    "Basic header, form-encoded first": f"Authorization: Basic {_basic('id', quote_plus(SECRET))}",
    "AUTH PLAIN": "AUTH PLAIN " + base64.b64encode(f"\0helpdesk\0{SECRET}".encode()).decode(),
    "base64url": base64.urlsafe_b64encode(f"x{SECRET}".encode()).decode(),
    "JSON": json.dumps({"client_secret": SECRET}),
    "JSON, UTF-8": json.dumps({"client_secret": SECRET}, ensure_ascii=False),
    "Python repr": repr({"client_secret": SECRET}),
}


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
def test_a_secret_echoed_in_any_usual_encoding_is_redacted(redact: Redactor, echo: str) -> None:
    said = f"the proxy answered 502: {echo} (request id 42)"

    clean = redact(said)

    assert SECRET not in clean
    for piece in ("Qx7~client", "secret+val", "val=ue"):  # no recognisable piece is left
        assert piece not in clean and quote_plus(piece) not in clean
    assert MARK in clean
    assert clean.startswith("the proxy answered 502: ")
    assert clean.endswith(" (request id 42)")


QUOTED = "P@ss\"w<0>rd&'\\x/y"  # quotes, markup and a backslash: escaped differently by each


@pytest.mark.parametrize(
    "escaped",
    [
        json.dumps(QUOTED)[1:-1],
        json.dumps(QUOTED)[1:-1].replace("/", "\\/"),
        html.escape(QUOTED),
        html.escape(QUOTED, quote=False),
        repr(QUOTED)[1:-1],
    ],
    ids=["JSON", "JSON with \\/", "HTML", "HTML, quotes as they are", "Python repr"],
)
def test_a_secret_with_quotes_and_markup_is_redacted_as_json_html_or_python_escape_it(
    escaped: str,
) -> None:
    assert escaped != QUOTED

    said = Redactor({"AD bind password": QUOTED})(f"bind with '{escaped}' refused")

    assert said == "bind with '[redacted: AD bind password]' refused"


def test_the_whole_base64_word_of_a_basic_header_goes_with_the_secret(redact: Redactor) -> None:
    header = f"Authorization: Basic {_basic('svc@client.example', SECRET)}\r\nHost: x"

    assert redact(header) == f"Authorization: Basic {MARK}\r\nHost: x"


def test_a_message_cut_off_inside_a_secret_loses_the_part_that_is_there(
    redact: Redactor,
) -> None:
    cut = f"answered: client_secret={quote_plus(SECRET)}"[:40]

    assert redact(cut) == f"answered: client_secret={MARK}"
    assert redact("ends with Qx7~cli") == "ends with Qx7~cli"  # shorter than the floor: kept


def test_a_secret_shorter_than_the_floor_is_not_redacted_and_a_longer_one_is() -> None:
    short, long = "expired", "expired!"
    assert len(short) == MIN_LENGTH - 1 and len(long) == MIN_LENGTH

    said = "the client secret is wrong or expired; expired! was sent"

    assert Redactor({"short": short})(said) == said
    assert Redactor({"long": long})(said) == (
        "the client secret is wrong or expired; [redacted: long] was sent"
    )


def test_remembered_values_are_redacted_and_only_the_last_few_are_kept(redact: Redactor) -> None:
    tokens = [f"eyJ0eXAiOiJKV1Qi.token-number-{n:03d}" for n in range(RECENT + 1)]
    for token in tokens:
        redact.remember(token, "Graph access token")

    said = redact(" ".join(tokens) + " " + SECRET)

    assert tokens[0] in said  # the oldest was forgotten
    assert not any(token in said for token in tokens[1:])
    assert said.count("[redacted: Graph access token]") == RECENT
    assert said.endswith(MARK)  # what the connector was built with is never forgotten


def test_findings_keep_everything_but_the_secret(redact: Redactor) -> None:
    finding = Finding("graph", "token", "fail", f"echo: {SECRET}", fix=f"not {SECRET}, a new one")

    clean = redact.findings([finding])

    assert clean == [
        Finding("graph", "token", "fail", f"echo: {MARK}", fix=f"not {MARK}, a new one")
    ]


# --- the call wrapper --------------------------------------------------------------------------


def _caller(redactor: Redactor) -> Caller:
    return Caller("contoso", "graph", breakers=Breakers(), sleep=lambda _: None, redactor=redactor)


def test_an_error_that_says_a_secret_leaves_the_caller_without_it_or_its_cause(
    redact: Redactor,
) -> None:
    def request() -> None:
        try:
            raise ValueError(f"proxy said: {SECRET}")
        except ValueError as cause:
            raise AuthenticationError(
                f"refused: client_secret={quote_plus(SECRET)}",
                system="graph",
                status=401,
                fix=f"replace {SECRET}",
            ) from cause

    with pytest.raises(AuthenticationError) as caught:
        _caller(redact).call(request, idempotent=True)

    error = caught.value
    assert (error.message, error.fix, error.status) == (
        f"refused: client_secret={MARK}",
        f"replace {MARK}",
        401,
    )
    assert error.__cause__ is None and error.__context__ is None
    printed = "".join(traceback.format_exception(error))
    assert SECRET not in printed and quote_plus(SECRET) not in printed


def test_an_error_whose_cause_alone_says_a_secret_leaves_without_the_cause(
    redact: Redactor,
) -> None:
    def request() -> None:
        raise ConnectorError("the sign-in failed", system="graph") from OSError(SECRET)

    with pytest.raises(ConnectorError) as caught:
        _caller(redact).call(request, idempotent=False)

    assert caught.value.message == "the sign-in failed"
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_an_error_without_a_secret_leaves_the_caller_as_it_was(redact: Redactor) -> None:
    refusal = AuthenticationError("AADSTS7000215: Invalid client secret", system="graph")

    def request() -> None:
        raise refusal

    with pytest.raises(AuthenticationError) as caught:
        _caller(redact).call(request, idempotent=True)

    assert caught.value is refusal


def test_any_other_exception_that_says_a_secret_becomes_a_connector_error_without_it(
    redact: Redactor,
) -> None:
    def request() -> None:
        raise ValueError(f"cannot read {SECRET!r} as a number")

    with pytest.raises(ConnectorError) as caught:
        _caller(redact).call(request, idempotent=True)

    assert SECRET not in str(caught.value)
    assert caught.value.message == f"ValueError: cannot read '{MARK}' as a number"
    assert caught.value.__context__ is None


def test_any_other_exception_without_a_secret_passes_as_it_is(redact: Redactor) -> None:
    def request() -> None:
        raise KeyError("value")

    with pytest.raises(KeyError):
        _caller(redact).call(request, idempotent=True)


# --- the log -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["deskhand.worker", "msal.oauth2cli.oauth2", "httpx", "deskhand.created.later"]
)
def test_log_records_of_guarded_loggers_lose_every_known_secret(
    redact: Redactor, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    logger = logging.getLogger(name)
    try:
        raise RuntimeError(f"echo: client_secret={quote_plus(SECRET)}")
    except RuntimeError:
        logger.exception("Token response is not in json format: %s", f"<pre>{SECRET}</pre>")

    assert SECRET not in caplog.text and quote_plus(SECRET) not in caplog.text
    assert f"Token response is not in json format: <pre>{MARK}</pre>" in caplog.text
    assert f"RuntimeError: echo: client_secret={MARK}" in caplog.text


def test_a_record_made_by_make_log_record_passes_the_guard(redact: Redactor) -> None:
    # Once a secret is known every record goes through the guard, also the nameless one that
    # logging.makeLogRecord asks the factory for (the audit checkpoints' syslog copy).
    record = logging.makeLogRecord({"msg": "checkpoint 7", "levelno": logging.INFO})
    assert record.getMessage() == "checkpoint 7"
