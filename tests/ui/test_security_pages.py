"""Issue 13, items 4 and 9 as a user sees them: settings that take effect, Chinese answers, one-time passwords."""

from __future__ import annotations

from nicegui.testing import User

from app.core.security import verify_password
from app.models.access import AccessSystem
from app.models.accounts import Account, Role
from app.models.audit import AuditLog
from app.models.system import SystemParam
from app.services import access_systems, accounts, security_settings, system_init
from app.services.access_systems import SystemInput
from app.services.errors import ValidationFailed
from tests import factories
from tests.ui.helpers import login


async def _super_admin(user: User):
    await user.open("/login")
    account = await Account.get(login="admin")
    account.must_change_password = False
    account.password_hash = factories.hash_password(factories.PASSWORD)
    await account.save()
    actor = await accounts.load_actor(account.id)
    await system_init.run(actor, "http://console.test")
    return actor


async def test_system_name_takes_effect(user: User) -> None:
    admin = await _super_admin(user)
    from app.services import system_params

    await system_params.update(admin, {"system_name": "集团通讯录平台"})
    await user.open("/login")
    await user.should_see("集团通讯录平台")


async def test_bad_url_parameters_and_unknown_pages_answer_in_chinese(user: User) -> None:
    await _super_admin(user)
    await login(user, "admin", factories.PASSWORD)
    await user.should_see("欢迎")
    for path in ("/contacts?dept=abc", "/no-such-page"):
        answer = await user.http_client.get(path)
        assert answer.status_code == 404, path
        assert "页面不存在" in answer.text and "Input should be" not in answer.text and "Not Found" not in answer.text
    api = await user.http_client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.json()["errmsg"] == "接口不存在"


async def test_home_warns_while_accounts_hold_an_initial_password(user: User) -> None:
    await _super_admin(user)
    org = await factories.org("叮当科技", "corpA", is_main=True)
    await factories.account("newbie", Role.SUB_ADMIN, org, must_change=True)
    await login(user, "admin", factories.PASSWORD)
    await user.should_see(marker="initial-password-warning")
    await user.should_see("仍有 1 个账号在使用初始密码")


async def test_security_settings_block_refuses_bad_ranges_and_saves_good_ones(user: User) -> None:
    await _super_admin(user)
    await login(user, "admin", factories.PASSWORD)
    await user.should_see("欢迎")
    await user.open("/settings/system")
    await user.should_see("安全设置")
    user.find(marker="allowed_ranges").type("10.0.0.0/8\nnot-a-range")
    user.find(marker="save-security").click()
    await user.should_see("不是有效的 IP 地址或网段")
    assert not await SystemParam.exists(key="security")
    user.find(marker="allowed_ranges").clear().type("10.1.0.0/16")
    user.find(marker="trusted_proxies").type("192.168.10.5")
    user.find(marker="save-security").click()
    await user.should_see("安全设置已保存")
    security_settings.forget_cache()
    saved = await security_settings.load()
    assert saved.allowed_ranges == ["10.1.0.0/16"] and saved.trusted_proxies == ["192.168.10.5/32"]
    assert await AuditLog.exists(action="system.security")


async def test_random_initial_passwords_are_random_and_work_once(user: User) -> None:
    admin = await _super_admin(user)
    await security_settings.save(admin, allowed_ranges="", trusted_proxies="", initial_password="random")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    account, created = await accounts.grant_role(admin, login="lisi", display_name="李四", role=Role.SUB_ADMIN, org=org)
    assert created and account.initial_password and account.initial_password != "123456"
    stored = await Account.get(login="lisi")
    assert stored.must_change_password and verify_password(account.initial_password, stored.password_hash)
    assert not verify_password("123456", stored.password_hash)
    entry = await AuditLog.get(action="account.grant_role", object_name="lisi")
    assert account.initial_password not in (entry.detail + str(entry.after))


async def test_one_scan_login_appid_per_access_system(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    boss = await factories.account("boss", Role.ORG_ADMIN, org)
    actor = await accounts.load_actor(boss.id, org.id)
    first = SystemInput(
        name="A", identifier="id-a", auth_account="acc-a", auth_password="pw-a-12345678", scan_appid="dingoa1"
    )
    await access_systems.save_system(actor, None, first)
    second = SystemInput(
        name="B", identifier="id-b", auth_account="acc-b", auth_password="pw-b-12345678", scan_appid="dingoa1"
    )
    try:
        await access_systems.save_system(actor, None, second)
    except ValidationFailed as exc:
        assert exc.field == "scan_appid" and "只能用于一个接入系统" in exc.message
    else:
        raise AssertionError("a second system with the same 扫码登录appid was saved")
    assert await AccessSystem.all().count() == 1
