"""专属数据存储 through our client and through DingTalk's official SDK (``alibabacloud-dingtalk`` exclusive_1_0),
both against the simulator over loopback HTTP: the two must agree on paths, fields, states and error codes."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pytest
from dingtalk_client_helpers import APP

from app.dingtalk.client import DingTalkClient
from app.dingtalk.errors import DingTalkAPIError
from app.dingtalk.simulator.exclusive import add_bucket

OSS = "https://landing-files.oss-cn-shanghai.aliyuncs.com"
KEY_ID, KEY_SECRET = "LTAI5tLandingFiles", "FilesSecret-0123456789abcdef"


@pytest.fixture
def bucket(sim: Any) -> str:
    add_bucket(sim.state, OSS, KEY_ID, KEY_SECRET)
    return OSS


async def test_client_check_open_state_update_and_quota(
    client: DingTalkClient, sim: Any, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.dingtalk")
    with pytest.raises(DingTalkAPIError) as caught:
        await client.exclusive.check_file_storage(
            APP, oss=bucket, access_key_id=KEY_ID, access_key_secret="wrong-secret-1"
        )
    assert caught.value.errcode == "fileStorage.oss.signatureNotMatch" and caught.value.http_status == 400
    assert not caught.value.is_transient
    assert (await client.exclusive.get_file_storage_state(APP)).opened is False

    check = await client.exclusive.check_file_storage(
        APP, oss=bucket, access_key_id=KEY_ID, access_key_secret=KEY_SECRET
    )
    assert check.passed and check.oss == bucket and check.access_key_id == KEY_ID
    opened = await client.exclusive.activate_file_storage(
        APP, oss=bucket, access_key_id=KEY_ID, access_key_secret=KEY_SECRET
    )
    assert opened.opened and opened.healthy and opened.used_quota == 0 and len(opened.create_date) == 19
    state = await client.exclusive.get_file_storage_state(APP)
    assert (state.oss, state.access_key_id, state.create_date) == (bucket, KEY_ID, opened.create_date)

    with pytest.raises(DingTalkAPIError) as caught:
        await client.exclusive.activate_file_storage(
            APP, oss="https://other.oss-cn-shanghai.aliyuncs.com", access_key_id=KEY_ID, access_key_secret=KEY_SECRET
        )
    assert caught.value.errcode == "fileStorage.alreadyOpened"

    add_bucket(sim.state, OSS, "LTAI5tSecondKey", "SecondSecret-987")
    assert (await client.exclusive.get_file_storage_state(APP)).healthy is False
    config = await client.exclusive.update_file_storage_key(
        APP, access_key_id="LTAI5tSecondKey", access_key_secret="SecondSecret-987"
    )
    assert config.access_key_id == "LTAI5tSecondKey" and config.oss == bucket
    assert (await client.exclusive.get_file_storage_state(APP)).healthy is True

    today = date.today()
    points = await client.exclusive.get_file_storage_quota(
        APP, start=today - timedelta(days=3), end=today + timedelta(days=1)
    )
    assert [p.used_storage for p in points] == [0]  # one point: the day it opened, nothing stored yet

    # The secret never reaches a log line, even at DEBUG where request bodies are logged.
    text = caplog.text
    assert "accessKeySecret" in text and KEY_SECRET not in text and "SecondSecret-987" not in text


@pytest.mark.parametrize(
    ("oss", "code"),
    [
        ("ftp://landing-files.oss-cn-shanghai.aliyuncs.com", "invalidParameter.oss.url"),
        ("https://landing-files.example.com", "invalidParameter.oss.url"),
        ("https://missing.oss-cn-shanghai.aliyuncs.com", "fileStorage.oss.bucketNotFound"),
    ],
)
async def test_client_bad_bucket_urls(client: DingTalkClient, bucket: str, oss: str, code: str) -> None:
    with pytest.raises(DingTalkAPIError) as caught:
        await client.exclusive.check_file_storage(APP, oss=oss, access_key_id=KEY_ID, access_key_secret=KEY_SECRET)
    assert caught.value.errcode == code


async def test_simulator_checks_parameters_and_target_corp(client: DingTalkClient, sim: Any, bucket: str) -> None:
    with pytest.raises(DingTalkAPIError) as caught:
        await client.exclusive.check_file_storage(
            APP, oss=bucket, access_key_id=KEY_ID, access_key_secret=KEY_SECRET, target_corp_id="dingsomeoneelse"
        )
    assert caught.value.errcode == "invalidParameter.targetCorpId"
    with pytest.raises(DingTalkAPIError) as caught:
        await client.exclusive.check_file_storage(APP, oss=bucket, access_key_id=KEY_ID, access_key_secret="")
    assert caught.value.errcode == "invalidParameter"
    with pytest.raises(DingTalkAPIError) as caught:
        await client.exclusive.get_file_storage_quota(APP, start=date(2026, 1, 2), end=date(2026, 1, 1))
    assert caught.value.errcode == "invalidParameter"
    with pytest.raises(DingTalkAPIError) as caught:
        await client.exclusive.update_file_storage_key(APP, access_key_id=KEY_ID, access_key_secret=KEY_SECRET)
    assert caught.value.errcode == "fileStorage.notOpened"


async def test_official_sdk_exclusive_1_0_against_the_simulator(client: DingTalkClient, sim: Any, bucket: str) -> None:
    """DingTalk's own SDK, configured the documented way for another endpoint: protocol http, endpoint host:port."""
    from alibabacloud_dingtalk.exclusive_1_0 import models as m
    from alibabacloud_dingtalk.exclusive_1_0.client import Client
    from alibabacloud_tea_openapi import models as open_api_models
    from alibabacloud_tea_util import models as util_models

    sdk = Client(open_api_models.Config(protocol="http", endpoint=f"{sim.host}:{sim.port}"))
    token = await client.transport.get_access_token(APP)
    runtime = util_models.RuntimeOptions()

    def headers(cls: type) -> Any:
        return cls(x_acs_dingtalk_access_token=token)

    with pytest.raises(Exception) as caught:
        await sdk.file_storage_check_connection_with_options_async(
            m.FileStorageCheckConnectionRequest(
                oss=bucket, access_key_id="LTAI5tNobody", access_key_secret=KEY_SECRET, target_corp_id=APP.corpid
            ),
            headers(m.FileStorageCheckConnectionHeaders),
            runtime,
        )
    assert getattr(caught.value, "code", None) == "fileStorage.oss.invalidAccessKeyId"
    assert getattr(caught.value, "data", {}).get("statusCode") == 400

    checked = await sdk.file_storage_check_connection_with_options_async(
        m.FileStorageCheckConnectionRequest(
            oss=bucket, access_key_id=KEY_ID, access_key_secret=KEY_SECRET, target_corp_id=APP.corpid
        ),
        headers(m.FileStorageCheckConnectionHeaders),
        runtime,
    )
    assert checked.status_code == 200 and checked.body.check_state == 1 and checked.body.oss == bucket

    opened = await sdk.file_storage_active_storage_with_options_async(
        m.FileStorageActiveStorageRequest(
            oss=bucket, access_key_id=KEY_ID, access_key_secret=KEY_SECRET, target_corp_id=APP.corpid
        ),
        headers(m.FileStorageActiveStorageHeaders),
        runtime,
    )
    assert opened.body.file_storage_open_status == 1 and opened.body.storage_status == 1

    state = await sdk.file_storage_get_storage_state_with_options_async(
        m.FileStorageGetStorageStateRequest(target_corp_id=APP.corpid),
        headers(m.FileStorageGetStorageStateHeaders),
        runtime,
    )
    assert (state.body.oss, state.body.access_key_id, state.body.create_date) == (
        bucket,
        KEY_ID,
        opened.body.create_date,
    )

    add_bucket(sim.state, OSS, "LTAI5tSdkRotated", "SdkRotatedSecret-1")
    updated = await sdk.file_storage_update_storage_with_options_async(
        m.FileStorageUpdateStorageRequest(
            access_key_id="LTAI5tSdkRotated", access_key_secret="SdkRotatedSecret-1", target_corp_id=APP.corpid
        ),
        headers(m.FileStorageUpdateStorageHeaders),
        runtime,
    )
    assert updated.body.access_key_id == "LTAI5tSdkRotated" and updated.body.oss == bucket

    created = opened.body.create_date[:10].replace("-", "")
    quota = await sdk.file_storage_get_quota_data_with_options_async(
        m.FileStorageGetQuotaDataRequest(target_corp_id=APP.corpid, type="day", start_time=created, end_time=created),
        headers(m.FileStorageGetQuotaDataHeaders),
        runtime,
    )
    assert [(q.statistic_time, q.used_storage) for q in quota.body.quota_model_list] == [(created, 0)]

    # What the SDK saw is what our client sees.
    ours = await client.exclusive.get_file_storage_state(APP)
    assert (ours.oss, ours.access_key_id, ours.create_date) == (bucket, "LTAI5tSdkRotated", opened.body.create_date)


async def test_simulator_state_dump_keeps_buckets_and_storages(client: DingTalkClient, sim: Any, bucket: str) -> None:
    await client.exclusive.activate_file_storage(APP, oss=bucket, access_key_id=KEY_ID, access_key_secret=KEY_SECRET)
    dumped = sim.sim.dump()
    sim.sim.reset()
    assert (await client.exclusive.get_file_storage_state(APP)).opened is False
    sim.sim.load(dumped)
    state = await client.exclusive.get_file_storage_state(APP)
    assert state.opened and state.healthy and state.oss == bucket
