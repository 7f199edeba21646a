"""专属数据存储 (guide 2.2) end to end: the service, the real client and the simulator over loopback HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from tortoise import Tortoise

from app import runtime
from app.models.accounts import Role
from app.models.audit import AuditLog
from app.models.exclusive import ExclusiveStorage, StorageStep
from app.services import exclusive_storage
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.exclusive_storage import StorageRefused
from app.services.orgs import FormInvalid
from tests import factories
from tests.integration import exclusive_env
from tests.integration.exclusive_env import CORPID, KEY_ID, KEY_SECRET, OSS, ExclusiveEnv, actor_for, org_admin

env = exclusive_env.env
CHECK = "/v1.0/exclusive/fileStorages/connections/check"
ACTIVE = "/v1.0/exclusive/fileStorages/active"
CHINA = timezone(timedelta(hours=8))


async def _not_opened_in_dingtalk(env: ExclusiveEnv) -> bool:
    return await env.sim_status("GET", f"/_sim/corps/{CORPID}/exclusive/storage") == 404


@pytest.mark.parametrize(
    ("oss", "key_id", "key_secret", "field", "words"),
    [
        (OSS, KEY_ID, "WrongSecret0000", "access_key_secret", "AccessKey Secret 不正确"),
        (OSS, "LTAI5tSomeoneElse", KEY_SECRET, "access_key_id", "AccessKey ID 不存在"),
        ("https://files.example.com", KEY_ID, KEY_SECRET, "oss_url", "OSS链接地址格式不正确"),
        ("https://nobody.oss-cn-beijing.aliyuncs.com", KEY_ID, KEY_SECRET, "oss_url", "bucket 不存在"),
    ],
)
async def test_a_failed_check_names_the_field_and_stores_nothing(
    env: ExclusiveEnv, oss: str, key_id: str, key_secret: str, field: str, words: str
) -> None:
    admin = await org_admin(env.org)
    with pytest.raises(StorageRefused) as caught:
        await exclusive_storage.check_and_open(
            admin,
            env.org.id,
            oss_url=oss,
            access_key_id=key_id,
            access_key_secret=key_secret,
            client=runtime.get().dingtalk,
        )
    assert caught.value.field == field
    assert words in caught.value.message and "检测未通过" in caught.value.message
    storage = await ExclusiveStorage.get(org_id=env.org.id)
    assert (storage.oss_url, storage.access_key_id, storage.access_key_secret) == ("", "", "")
    assert await env.calls(ACTIVE) == 0
    assert await _not_opened_in_dingtalk(env)
    view = await exclusive_storage.get_view(admin, env.org.id, client=runtime.get().dingtalk)
    assert view.open_label == "未开通" and not view.opened
    entry = await AuditLog.filter(action="exclusive.storage.check").order_by("-id").first()
    assert entry is not None and entry.detail.startswith("失败")
    assert key_secret not in str(entry.after) and key_secret not in entry.detail


async def test_an_unreachable_bucket_is_reported_next_to_the_oss_field(env: ExclusiveEnv) -> None:
    await env.bucket(OSS, KEY_ID, KEY_SECRET, reachable=False)
    admin = await org_admin(env.org)
    with pytest.raises(StorageRefused) as caught:
        await exclusive_storage.check_and_open(
            admin,
            env.org.id,
            oss_url=OSS,
            access_key_id=KEY_ID,
            access_key_secret=KEY_SECRET,
            client=runtime.get().dingtalk,
        )
    assert caught.value.field == "oss_url"
    assert "无法连接 OSS bucket" in caught.value.message and "处理建议" in caught.value.message
    assert await _not_opened_in_dingtalk(env)


async def test_empty_and_malformed_fields_are_refused_before_dingtalk_is_called(env: ExclusiveEnv) -> None:
    admin = await org_admin(env.org)
    with pytest.raises(FormInvalid) as caught:
        await exclusive_storage.check_and_open(
            admin, env.org.id, oss_url="", access_key_id="", access_key_secret="", client=runtime.get().dingtalk
        )
    assert set(caught.value.errors) == {"oss_url", "access_key_id", "access_key_secret"}
    with pytest.raises(FormInvalid) as caught:
        await exclusive_storage.check_and_open(
            admin,
            env.org.id,
            oss_url="http://acme.oss-cn-hangzhou.aliyuncs.com/path",
            access_key_id="含中文",
            access_key_secret="has space",
            client=runtime.get().dingtalk,
        )
    assert "https://" in caught.value.errors["oss_url"]
    assert "字母和数字" in caught.value.errors["access_key_id"]
    assert "空格" in caught.value.errors["access_key_secret"]
    assert await env.calls(CHECK) == 0


async def test_the_right_key_opens_the_storage_and_the_state_and_quota_are_shown(env: ExclusiveEnv) -> None:
    admin = await org_admin(env.org)
    # 购买 -> 设置, and 上一步 back again, then forward.
    assert (await exclusive_storage.set_step(admin, env.org.id, StorageStep.SETTINGS)).step is StorageStep.SETTINGS
    assert (await exclusive_storage.set_step(admin, env.org.id, StorageStep.PURCHASE)).step is StorageStep.PURCHASE
    await exclusive_storage.set_step(admin, env.org.id, StorageStep.SETTINGS)

    view = await exclusive_storage.check_and_open(
        admin,
        env.org.id,
        oss_url=OSS + "/",
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        client=runtime.get().dingtalk,
    )
    assert view.step is StorageStep.OPENED
    assert (view.open_label, view.storage_label) == ("已开通", "正常")
    assert view.oss_url == OSS and view.access_key_id == KEY_ID
    assert KEY_SECRET[:-4] not in view.secret_masked and view.secret_masked.endswith(KEY_SECRET[-4:])
    assert await env.calls(CHECK) == 1 and await env.calls(ACTIVE) == 1
    in_dingtalk = await env.sim("GET", f"/_sim/corps/{CORPID}/exclusive/storage")
    assert in_dingtalk["oss"] == OSS and in_dingtalk["accessKeyId"] == KEY_ID

    # The secret is encrypted in the database and never in the audit trail.
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query("SELECT access_key_secret FROM exclusive_storage")
    assert rows[0]["access_key_secret"].startswith("enc:v1:") and KEY_SECRET not in rows[0]["access_key_secret"]
    entries = await AuditLog.filter(org_id=env.org.id, action__startswith="exclusive.storage").order_by("id")
    assert [e.action for e in entries][-2:] == ["exclusive.storage.check", "exclusive.storage.open"]
    assert all(KEY_SECRET not in f"{e.before} {e.after} {e.detail}" for e in entries)

    # DingTalk has held data for a few days: the state and the chart show what it reports.
    today = datetime.now(CHINA).date()
    usage = {(today - timedelta(days=d)).strftime("%Y%m%d"): (10 - d) * 50 * 1024 * 1024 for d in range(5)}
    created = (today - timedelta(days=6)).strftime("%Y-%m-%d") + " 09:30:00"
    await env.sim("PUT", f"/_sim/corps/{CORPID}/exclusive/usage", {"usage": usage, "createDate": created})
    view = await exclusive_storage.get_view(admin, env.org.id, client=runtime.get().dingtalk)
    assert view.create_date == created
    assert view.used_quota == 500 * 1024 * 1024 and view.used_text == "500.00 MB"
    series = await exclusive_storage.quota_series(admin, env.org.id, days=10, client=runtime.get().dingtalk)
    assert series.error == ""
    assert series.days[0] == (today - timedelta(days=6)).isoformat() and series.days[-1] == today.isoformat()
    assert series.used_bytes[-1] == 500 * 1024 * 1024 and series.used_bytes[0] == 0
    assert series.used_bytes == sorted(series.used_bytes)

    with pytest.raises(ValidationFailed):
        await exclusive_storage.check_and_open(
            admin,
            env.org.id,
            oss_url=OSS,
            access_key_id=KEY_ID,
            access_key_secret=KEY_SECRET,
            client=runtime.get().dingtalk,
        )


async def test_a_key_rotated_at_aliyun_shows_as_abnormal_until_the_access_key_is_updated(env: ExclusiveEnv) -> None:
    admin = await org_admin(env.org)
    await exclusive_storage.check_and_open(
        admin,
        env.org.id,
        oss_url=OSS,
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        client=runtime.get().dingtalk,
    )
    await env.bucket(OSS, "LTAI5tRotated0002", "RotatedSecret987654321")
    view = await exclusive_storage.get_view(admin, env.org.id, client=runtime.get().dingtalk)
    assert view.opened and view.storage_label.startswith("异常")

    with pytest.raises(StorageRefused) as caught:
        await exclusive_storage.update_access_key(
            admin,
            env.org.id,
            access_key_id="LTAI5tRotated0002",
            access_key_secret="NotTheRotatedOne1",
            client=runtime.get().dingtalk,
        )
    assert caught.value.field == "access_key_secret"
    assert (await ExclusiveStorage.get(org_id=env.org.id)).access_key_id == KEY_ID

    view = await exclusive_storage.update_access_key(
        admin,
        env.org.id,
        access_key_id="LTAI5tRotated0002",
        access_key_secret="RotatedSecret987654321",
        client=runtime.get().dingtalk,
    )
    assert view.access_key_id == "LTAI5tRotated0002" and view.storage_label == "正常"
    stored = await ExclusiveStorage.get(org_id=env.org.id)
    assert stored.access_key_secret == "RotatedSecret987654321"
    entry = await AuditLog.filter(action="exclusive.storage.update_key").order_by("-id").first()
    assert entry is not None and "RotatedSecret987654321" not in f"{entry.before} {entry.after}"


async def test_update_access_key_needs_an_opened_storage(env: ExclusiveEnv) -> None:
    admin = await org_admin(env.org)
    with pytest.raises(ValidationFailed, match="尚未开启"):
        await exclusive_storage.update_access_key(
            admin, env.org.id, access_key_id=KEY_ID, access_key_secret=KEY_SECRET, client=runtime.get().dingtalk
        )


async def test_dingtalk_unreachable_is_shown_not_raised(env: ExclusiveEnv) -> None:
    admin = await org_admin(env.org)
    await exclusive_storage.check_and_open(
        admin,
        env.org.id,
        oss_url=OSS,
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        client=runtime.get().dingtalk,
    )
    await env.ding.close()
    view = await exclusive_storage.get_view(admin, env.org.id, client=runtime.get().dingtalk)
    assert view.state_error.startswith("读取专属存储状态失败") and view.open_label == "已开通"  # last known state
    series = await exclusive_storage.quota_series(admin, env.org.id, client=runtime.get().dingtalk)
    assert series.error.startswith("读取存储用量失败")


async def test_only_the_org_admin_of_that_org_and_the_super_admin_may_configure(env: ExclusiveEnv) -> None:
    other = await factories.org("另一组织", "dingother2")
    sub = await factories.account("sub1", Role.SUB_ADMIN, env.org)
    other_admin = await factories.account("otheradmin", Role.ORG_ADMIN, other)
    root = await factories.account("root", Role.SUPER_ADMIN)
    for denied in (actor_for(sub, Role.SUB_ADMIN, env.org), actor_for(other_admin, Role.ORG_ADMIN, other)):
        with pytest.raises(PermissionDenied):
            await exclusive_storage.get_view(denied, env.org.id, client=runtime.get().dingtalk)
        with pytest.raises(PermissionDenied):
            await exclusive_storage.check_and_open(
                denied,
                env.org.id,
                oss_url=OSS,
                access_key_id=KEY_ID,
                access_key_secret=KEY_SECRET,
                client=runtime.get().dingtalk,
            )
    assert await env.calls(CHECK) == 0
    superadmin = actor_for(root, Role.SUPER_ADMIN, None)
    view = await exclusive_storage.check_and_open(
        superadmin,
        env.org.id,
        oss_url=OSS,
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        client=runtime.get().dingtalk,
    )
    assert view.opened


async def test_a_storage_dingtalk_no_longer_has_open_goes_back_to_the_settings_step(env: ExclusiveEnv) -> None:
    admin = await org_admin(env.org)
    await exclusive_storage.check_and_open(
        admin,
        env.org.id,
        oss_url=OSS,
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        client=runtime.get().dingtalk,
    )
    await env.sim("POST", "/_sim/reset")  # DingTalk's side forgot it (e.g. switched off by DingTalk support)
    view = await exclusive_storage.get_view(admin, env.org.id, client=runtime.get().dingtalk)
    assert view.step is StorageStep.SETTINGS and view.open_label == "未开通"
    assert view.oss_url == OSS  # what was set up stays, ready for another 检测链接
