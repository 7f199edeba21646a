"""Fixtures for the DingTalk client unit tests (transport-level cases use aioresponses)."""

from __future__ import annotations

import inspect
import unittest.mock
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import aioresponses.core as aioresponses_core
import pytest
from aioresponses import aioresponses

from app.dingtalk.client import App, DingTalkClient

# aioresponses 0.7.9 builds ClientResponse without the ``stream_writer`` argument that aiohttp 3.14 requires.
if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:

    class _CompatClientResponse(aiohttp.ClientResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", unittest.mock.Mock(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses_core.ClientResponse = _CompatClientResponse  # type: ignore[misc]

OAPI = "http://oapi.test"
API = "http://api.test"


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
def app() -> App:
    return App(corpid="dingcorp1", appkey="dingkey1", appsecret="SECRET-appsecret-1", agent_id=1001)


@pytest.fixture
async def client() -> AsyncIterator[DingTalkClient]:
    async with aiohttp.ClientSession() as session:
        yield DingTalkClient(
            session, oapi_base=OAPI, api_base=API, qps=1000, backoff_base=0.001, throttle_wait=0.01, timeout=2
        )
