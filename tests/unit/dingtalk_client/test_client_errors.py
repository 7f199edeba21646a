"""The errcode table, error classification and error objects."""

from __future__ import annotations

import pickle

import aiohttp
import pytest

from app.dingtalk.errcodes import ERROR_TABLE, Retry, lookup
from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError, is_transient


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (60020, "白名单"),
        (40014, "access_token"),
        (42001, "超时"),
        (60011, "权限"),
        (60121, "找不到该用户"),
        (40103, "同意"),
        (40019, "5个非认证企业"),
        (60003, "部门不存在"),
        (60104, "手机号码"),
        (90018, "并发"),
        ("InvalidAuthentication", "access_token"),
    ],
)
def test_meaning_comes_from_the_table(code: int | str, fragment: str) -> None:
    error = DingTalkAPIError(code, "raw message")
    assert fragment in error.meaning
    assert error.meaning == f"{ERROR_TABLE[code].zh} ({ERROR_TABLE[code].en})"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (60020, "服务器出口IP"),
        (40014, "AppSecret"),
        (42001, "AppSecret"),
        (60011, "通讯录"),
        (60121, "通讯录"),
        (40103, "邀请"),
        (40019, "退出"),
        (60003, "全量同步"),
        (60104, "手机号"),
        ("Forbidden.AccessDenied.AccessTokenPermissionDenied", "requiredScopes"),
        ("Forbidden.AccessDenied.IpNotInWhiteList", "服务器出口IP"),
    ],
)
def test_advice_where_the_faq_gives_one(code: int | str, fragment: str) -> None:
    advice = DingTalkAPIError(code, "x").advice
    assert advice is not None and fragment in advice


def test_unknown_code_has_a_meaning_but_no_advice() -> None:
    error = DingTalkAPIError(123456789, "strange")
    assert "unknown" in error.meaning
    assert error.advice is None
    assert not error.is_transient


@pytest.mark.parametrize("code", [-1, 90018, 90002, 90006, 90005, 400001, 143103, "systemError"])
def test_transient_codes(code: int | str) -> None:
    assert DingTalkAPIError(code, "busy").is_transient
    assert is_transient(DingTalkAPIError(code, "busy"))


@pytest.mark.parametrize("code", [60121, 60020, 40103, 40019, 60003, 60011, 40035, 90020, 40014, 42001])
def test_non_transient_codes(code: int) -> None:
    assert not DingTalkAPIError(code, "no").is_transient


@pytest.mark.parametrize("code", [40014, 42001, 40001, 33001, "InvalidAuthentication"])
def test_token_codes(code: int | str) -> None:
    error = DingTalkAPIError(code, "token")
    assert error.is_token_invalid
    assert ERROR_TABLE[code].retry is Retry.TOKEN


def test_throttle_codes_are_transient_and_throttled() -> None:
    for code in (90018, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"):
        error = DingTalkAPIError(code, "slow down")
        assert error.is_throttled and error.is_transient


def test_string_errcode_is_normalised() -> None:
    error = DingTalkAPIError("60121", "找不到该用户")
    assert error.errcode == 60121
    assert lookup("60121") is ERROR_TABLE[60121]


def test_wrapper_error_88_uses_the_sub_code_from_the_message() -> None:
    error = DingTalkAPIError(
        88, "ding talk error[subcode=60020,submsg=访问ip不在白名单之中,request ip=1.2.3.4 appKey(dingxxx)]", "req1"
    )
    assert error.errcode == 88
    assert error.sub_code == 60020
    assert error.effective_code == 60020
    assert "白名单" in error.meaning
    assert error.advice and "服务器出口IP" in error.advice
    assert not error.is_transient
    assert "request_id=req1" in str(error)


def test_wrapper_error_88_with_token_sub_code_is_token_invalid() -> None:
    error = DingTalkAPIError(88, "auth", sub_code="40014")
    assert error.is_token_invalid
    assert not error.is_transient


def test_wrapper_error_88_without_sub_code_is_transient() -> None:
    assert DingTalkAPIError(88, "temporarily forbidden").is_transient


def test_v1_server_errors_are_transient_by_http_status() -> None:
    assert DingTalkAPIError("someNewCode", "boom", http_status=503).is_transient
    assert not DingTalkAPIError("invalidParameter", "bad", http_status=400).is_transient


def test_errors_survive_pickling() -> None:
    error = DingTalkAPIError(88, "x", "rid", sub_code=60020, http_status=None, path="/topapi/v2/user/get")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.errcode, copy.sub_code, copy.request_id, copy.path) == (88, 60020, "rid", "/topapi/v2/user/get")
    transport = DingTalkTransportError("HTTP error", status=502, url="http://x/y", transient=True, retry_after=2)
    copy2 = pickle.loads(pickle.dumps(transport))
    assert (copy2.status, copy2.is_transient, copy2.retry_after) == (502, True, 2)


def test_transport_error_text() -> None:
    error = DingTalkTransportError("timeout after 10s", url="http://oapi/x?access_token=***", transient=True)
    assert "timeout after 10s" in str(error) and "access_token=***" in str(error)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (aiohttp.ServerDisconnectedError(), True),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), True),
        (aiohttp.ClientPayloadError("truncated"), True),
        (DingTalkTransportError("HTTP error", status=502, transient=True), True),
        (DingTalkTransportError("unexpected response", status=200), False),
        (ValueError("bug"), False),
    ],
)
def test_is_transient_classifies_exceptions(exc: BaseException, expected: bool) -> None:
    assert is_transient(exc) is expected
