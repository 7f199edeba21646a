"""One exception root with a class per kind: what a caller catches follows the errcode table."""

from __future__ import annotations

import pickle

import pytest

from app.dingtalk.errcodes import ERROR_TABLE, Kind, Retry
from app.dingtalk.errors import (
    AlreadyExistsError,
    ConfigurationError,
    DingTalkAPIError,
    DingTalkError,
    DingTalkTransportError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServiceBusyError,
    ThrottledError,
)


def test_every_error_code_has_a_kind() -> None:
    assert [code for code, info in ERROR_TABLE.items() if info.kind is None] == [0]


def test_kind_and_retry_agree() -> None:
    for code, info in ERROR_TABLE.items():
        if info.retry is Retry.YES:
            assert info.kind in (Kind.TRANSIENT, Kind.THROTTLED), code
        if info.retry is Retry.TOKEN:
            assert info.kind is Kind.CONFIG, code
        if info.kind is Kind.TRANSIENT:
            assert info.retry is Retry.YES, code


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (60003, NotFoundError),
        (60121, NotFoundError),
        ("fileStorage.oss.bucketNotFound", NotFoundError),
        (60102, AlreadyExistsError),
        (71006, AlreadyExistsError),
        (60001, InvalidInputError),
        ("invalidParameter", InvalidInputError),
        (90018, ThrottledError),
        ("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", ThrottledError),
        (60011, PermissionDeniedError),
        (40103, PermissionDeniedError),
        (40089, ConfigurationError),
        (60020, ConfigurationError),
        ("unauthorized.client", ConfigurationError),
        (-1, ServiceBusyError),
        ("systemError", ServiceBusyError),
    ],
)
def test_an_api_error_is_an_instance_of_its_kind(code: int | str, cls: type[DingTalkAPIError]) -> None:
    error = DingTalkAPIError(code, "x")
    assert type(error) is cls and isinstance(error, DingTalkAPIError) and isinstance(error, DingTalkError)
    assert error.kind is ERROR_TABLE[code].kind
    assert not isinstance(error, DingTalkTransportError)


def test_a_wrapped_sub_code_decides_the_kind() -> None:
    assert type(DingTalkAPIError(88, "auth", sub_code=60020)) is ConfigurationError
    assert type(DingTalkAPIError(88, "sub_code=60011 denied")) is PermissionDeniedError
    unknown_cause = DingTalkAPIError(88, "auth", sub_code=99999)
    assert type(unknown_cause) is DingTalkAPIError and unknown_cause.kind is None and not unknown_cause.is_transient
    assert type(DingTalkAPIError(88, "temporarily forbidden")) is ServiceBusyError


def test_unknown_codes_stay_plain_unless_the_server_failed() -> None:
    plain = DingTalkAPIError(123456789, "strange")
    assert type(plain) is DingTalkAPIError and plain.kind is None
    busy = DingTalkAPIError("someNewCode", "boom", http_status=503)
    assert type(busy) is ServiceBusyError and busy.kind is Kind.TRANSIENT and busy.is_transient


def test_transport_errors_share_the_root() -> None:
    flaky = DingTalkTransportError("timeout after 10s", transient=True)
    final = DingTalkTransportError("unexpected response", status=200)
    assert isinstance(flaky, DingTalkError) and not isinstance(flaky, DingTalkAPIError)
    assert (flaky.kind, flaky.is_transient) == (Kind.TRANSIENT, True)
    assert (final.kind, final.is_transient) == (None, False)


def test_the_kind_survives_pickling() -> None:
    error = DingTalkAPIError(60104, "mobile exists", "rid", path="/topapi/v2/user/create")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is AlreadyExistsError and str(copy) == str(error)
    assert pickle.loads(pickle.dumps(NotFoundError(60003, "gone"))).errcode == 60003


def test_one_except_clause_catches_every_failure() -> None:
    caught = []
    for error in (DingTalkAPIError(60003, "gone"), DingTalkTransportError("HTTP error", status=502, transient=True)):
        try:
            raise error
        except DingTalkError as exc:
            caught.append(exc.is_transient)
    assert caught == [False, True]
