"""Tokens and secrets never reach a log line or an exception message."""

from __future__ import annotations

import logging
import re

import pytest
from aioresponses import aioresponses

from app.core.redaction import redact, redact_mapping, redact_url
from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError

OAPI = "http://oapi.test"  # matches the client fixture in conftest.py

TOKEN = "TOKEN-abcdef-123456"


def test_redact_query_strings() -> None:
    text = "GET http://x/gettoken?appkey=k1&appsecret=S3cr3t&access_token=T0k&code=C0de&tmp_auth_code=tmp"
    out = redact(text)
    for secret in ("S3cr3t", "T0k", "C0de", "tmp"):
        assert secret not in out.split("?")[1].replace("tmp_auth_code", "")
    assert "appkey=k1" in out
    assert "appsecret=***" in out and "access_token=***" in out


def test_redact_json_and_reprs() -> None:
    text = '{"appSecret": "S1", "clientSecret":"S2", "refreshToken": "R1", "aes_key": "A1", "name": "张三"}'
    out = redact(text)
    assert not any(s in out for s in ("S1", "S2", "R1", "A1"))
    assert "张三" in out
    assert "S9" not in redact("{'appsecret': 'S9', 'x': 1}")


def test_redact_mapping_nested() -> None:
    data = {"code": "c1", "nested": [{"accessToken": "t1", "keep": "v"}], "x-acs-dingtalk-access-token": "h"}
    assert redact_mapping(data) == {
        "code": "***",
        "nested": [{"accessToken": "***", "keep": "v"}],
        "x-acs-dingtalk-access-token": "***",
    }


def test_redact_url_masks_only_secrets() -> None:
    out = redact_url("http://o/topapi/v2/user/get", {"access_token": "t1", "userid": "u1"})
    assert "t1" not in out and "userid=u1" in out and "access_token=***" in out


def test_app_repr_hides_the_secret() -> None:
    app = App("corp", "key", "very-secret", 5)
    assert "very-secret" not in repr(app)
    assert App("c", "k", "s", "42").agent_id == 42  # type: ignore[arg-type]


async def test_no_secret_in_any_log_line_or_error(
    client: DingTalkClient, app: App, mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.dingtalk")
    mocked.get(
        re.compile(rf"{OAPI}/gettoken.*"),
        payload={"errcode": 0, "access_token": TOKEN, "expires_in": 7200},
        repeat=True,
    )
    # A transient failure (logged at WARNING with the retry), then a token error, then a final error.
    mocked.post(re.compile(rf"{OAPI}/topapi/v2/user/getuserinfo.*"), status=502, body="<html>bad gateway</html>")
    mocked.post(re.compile(rf"{OAPI}/topapi/v2/user/getuserinfo.*"), payload={"errcode": 42001, "errmsg": "expired"})
    mocked.post(re.compile(rf"{OAPI}/topapi/v2/user/getuserinfo.*"), payload={"errcode": 40078, "errmsg": "no code"})
    with pytest.raises(DingTalkAPIError) as info:
        await client.login.get_login_user(app, "ONE-TIME-CODE-777")
    mocked.post(re.compile(rf"{OAPI}/topapi/v2/user/get\?.*"), exception=ConnectionResetError("reset"), repeat=True)
    with pytest.raises(DingTalkTransportError) as transport:
        await client.contacts.get_user(app, "u1")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "getuserinfo" in logged  # the calls were logged at all
    for secret in (TOKEN, app.appsecret, "ONE-TIME-CODE-777"):
        assert secret not in logged
        assert secret not in str(info.value)
        assert secret not in str(transport.value)
    assert transport.value.__cause__ is None
