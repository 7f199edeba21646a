"""Binding DingTalk orgs through the services, against the simulator over loopback HTTP."""

from __future__ import annotations

import pytest

from app import runtime
from app.core.security import verify_password
from app.models.accounts import Account, Role, RoleGrant
from app.models.audit import AuditLog
from app.models.contacts import Department, Person
from app.models.orgs import BaselineStatus, CallbackStatus, Org
from app.models.sync import CallbackEvent
from app.services import company, orgs
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.orgs import DingTalkRejected, FormInvalid, OrgForm
from app.services.permissions import Actor
from tests.integration.org_binding.conftest import SUPER

A = dict(corpid="dingcorpa0001", appkey="dingkeya0001", appsecret="secretA-0123456789abcdef", agent_id="1001")
B = dict(corpid="dingcorpb0002", appkey="dingkeyb0002", appsecret="secretB-0123456789abcdef", agent_id="1002")


def company_form(domain: str, **org) -> company.CompanyForm:
    return company.CompanyForm(
        name="蓝钉测试企业", domain="test.adingding.com", org=OrgForm(callback_domain=domain, **org)
    )


async def test_company_creation_registers_callback_pulls_admin_and_tree(env) -> None:
    result = await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    assert result.callback_ok is True, result.callback_error
    org = await Org.get(id=result.org_id)
    assert org.is_main and org.callback_status == CallbackStatus.SUCCESS
    registration = env.sim.corp("dingcorpa0001").apps["dingkeya0001"].callback
    assert registration.url == org.callback_url
    assert "user_add_org" in registration.call_back_tag and "org_dept_remove" in registration.call_back_tag
    # The main admin (sys_level 1) became the org admin: login = mobile, password 123456, must change.
    sim_admin = next(u for u in env.sim.corp("dingcorpa0001").users.values() if u.sys_level == 1)
    account = await Account.get(login=sim_admin.mobile)
    assert account.must_change_password and verify_password("123456", account.password_hash)
    assert await RoleGrant.exists(account=account, role=Role.ORG_ADMIN, org_id=org.id)
    admin_person = await Person.get(id=org.main_admin_id)
    assert admin_person.ding_userid == sim_admin.userid and admin_person.name == sim_admin.name
    await orgs.wait_for_baselines(runtime.get())
    org = await Org.get(id=org.id)
    assert org.baseline_status == BaselineStatus.DONE, org.baseline_message
    corp = env.sim.corp("dingcorpa0001")
    assert await Department.filter(org_id=org.id).count() == len(corp.departments)
    assert await Person.filter(org_id=org.id).count() == len(corp.users)
    assert not await Person.filter(org_id=org.id, needs_push=True).exists()
    assert not await Department.filter(org_id=org.id, needs_push=True).exists()
    # Paths follow the DingTalk tree.
    for ding_id, sim_dept in list(corp.departments.items())[:30]:
        dept = await Department.get(org_id=org.id, ding_id=ding_id).select_related("parent")
        if sim_dept.parent_id:
            assert dept.parent.ding_id == sim_dept.parent_id
            assert dept.path == f"{dept.parent.path}{dept.id}/"
    # Managers come across (the first member of each demo department leads it).
    leaders = [d for d in corp.departments.values() if d.dept_manager_userid_list]
    dept = await Department.get(org_id=org.id, ding_id=leaders[0].dept_id)
    manager = await Person.get(id=dept.manager_ids[0])
    assert manager.ding_userid == leaders[0].dept_manager_userid_list[0]
    assert await AuditLog.exists(action="company.create")


async def test_callback_endpoint_stores_events_once(env) -> None:
    result = await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    await orgs.wait_for_baselines(runtime.get())
    corp = env.sim.corp("dingcorpa0001")
    env.sim.sim.dispatcher.emit(corp, "user_add_org", user_ids=["u-new-1"])
    env.sim.sim.dispatcher.emit(corp, "org_dept_create", dept_ids=[123])
    assert await env.sim.wait_deliveries() == 0
    assert all(entry["ok"] for entry in env.sim.sim.dispatcher.log)
    events = await CallbackEvent.filter(org_id=result.org_id).order_by("id")
    assert [e.event_type for e in events] == ["user_add_org", "org_dept_create"]


async def test_bad_credentials_show_dingtalk_message_and_save_nothing(env) -> None:
    bad = {**A, "appsecret": "wrong-secret-000000"}
    with pytest.raises(DingTalkRejected) as info:
        await company.save_company(SUPER, company_form(env.callback_base, **bad), rt=runtime.get())
    assert "钉钉返回错误" in info.value.message
    assert not await Org.exists()


async def test_ip_not_in_whitelist_gives_faq_advice(env) -> None:
    env.sim.sim.state.corps["dingcorpa0001"].apps["dingkeya0001"].ip_allowlist = ["10.9.9.9"]
    with pytest.raises(DingTalkRejected) as info:
        await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    assert "60020" in info.value.message and "服务器出口IP" in info.value.message
    assert not await Org.exists()


async def test_unreachable_callback_marks_failed_and_retry_succeeds(env) -> None:
    result = await company.save_company(SUPER, company_form("http://127.0.0.1:9", **A), rt=runtime.get())
    assert result.callback_ok is False and "71012" in result.callback_error
    org = await Org.get(id=result.org_id)
    assert org.callback_status == CallbackStatus.FAILED
    await orgs.wait_for_baselines(runtime.get())
    form = OrgForm(name=org.name, callback_domain=env.callback_base, **{**A, "appsecret": ""})
    await orgs.update_org(SUPER, org.id, form, client=runtime.get().dingtalk)
    retry = await orgs.register_callback(SUPER, org.id, client=runtime.get().dingtalk)
    assert retry.callback_ok is True
    assert (await Org.get(id=org.id)).callback_status == CallbackStatus.SUCCESS


async def test_duplicates_refused_and_field_errors(env) -> None:
    await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    await orgs.wait_for_baselines(runtime.get())
    dup = OrgForm(name="叮当科技", callback_domain=env.callback_base, **{**B, "corpid": A["corpid"]})
    with pytest.raises(FormInvalid) as info:
        await orgs.create_org(SUPER, dup, rt=runtime.get())
    assert "corpid" in info.value.errors
    for key in ("appkey", "appsecret", "agent_id"):
        form = OrgForm(name="叮当科技", callback_domain=env.callback_base, **{**B, key: A[key]})
        with pytest.raises(FormInvalid) as info:
            await orgs.create_org(SUPER, form, rt=runtime.get())
        assert key in info.value.errors, key
    assert await Org.all().count() == 1
    with pytest.raises(FormInvalid) as info:
        await orgs.create_org(SUPER, OrgForm(name="", corpid="bad id!", appkey="", agent_id="abc"), rt=runtime.get())
    assert {"name", "corpid", "appkey", "appsecret", "agent_id"} <= set(info.value.errors)


async def test_dissolve_removes_only_that_org(env) -> None:
    main = await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    other = await orgs.create_org(
        SUPER, OrgForm(name="叮当科技", callback_domain=env.callback_base, **B), rt=runtime.get()
    )
    await orgs.wait_for_baselines(runtime.get())
    main_people = await Person.filter(org_id=main.org_id).count()
    assert await Person.filter(org_id=other.org_id).count() > 0
    with pytest.raises(ValidationFailed, match="主组织不可解散"):
        await orgs.dissolve_orgs(SUPER, [main.org_id, other.org_id], client=runtime.get().dingtalk)
    assert await Org.all().count() == 2
    admin_grant = await RoleGrant.filter(org_id=other.org_id, role=Role.ORG_ADMIN).first()
    org_admin = Actor(
        account_id=admin_grant.account_id, login="x", display_name="x", org_roles={other.org_id: Role.ORG_ADMIN}
    )
    with pytest.raises(PermissionDenied):
        await orgs.dissolve_orgs(org_admin, [other.org_id], client=runtime.get().dingtalk)
    done = await orgs.dissolve_orgs(SUPER, [other.org_id], client=runtime.get().dingtalk)
    assert done.names == ["叮当科技"] and done.warnings == []
    assert not await Org.exists(id=other.org_id)
    assert not await Person.filter(org_id=other.org_id).exists()
    assert not await Department.filter(org_id=other.org_id).exists()
    assert not await Account.exists(login=other.admin_login)
    assert await Person.filter(org_id=main.org_id).count() == main_people
    assert await Account.exists(login=main.admin_login)
    assert await AuditLog.exists(action="org.dissolve", object_name="叮当科技")
    # The DingTalk org stays (with its people); only our callback registration is gone.
    assert env.sim.corp("dingcorpb0002").users
    assert env.sim.corp("dingcorpb0002").apps["dingkeyb0002"].callback is None


async def test_editing_the_org_tells_bound_access_systems(env) -> None:
    from app.models.access import AccessSystem, Notification

    result = await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    await orgs.wait_for_baselines(runtime.get())
    await AccessSystem.create(
        org_id=result.org_id,
        name="EKP",
        identifier="ekp-1",
        auth_account="ekp",
        auth_password="EkpPass-12345",
        notify_url="http://127.0.0.1:1/notify",
        identifier_used=True,
    )
    unchanged = OrgForm(name="蓝钉测试企业", callback_domain=env.callback_base, **A)
    await orgs.update_org(SUPER, result.org_id, unchanged, client=runtime.get().dingtalk)
    assert not await Notification.filter(event_type="org.changed").exists(), "saving without a change must not notify"
    await orgs.update_org(
        SUPER,
        result.org_id,
        OrgForm(name="叮当科技（集团）", callback_domain=env.callback_base, **A),
        client=runtime.get().dingtalk,
    )
    sent = await Notification.filter(system__identifier="ekp-1", event_type="org.changed")
    assert [n.event_type for n in sent] == ["org.changed"]
