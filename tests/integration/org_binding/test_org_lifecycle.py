"""An org's life at DingTalk: the corpid must be the appkey's corp before anything is saved or pulled, a key-id
mismatch is explained as such, and dissolving removes our callback registration so DingTalk stops calling us."""

from __future__ import annotations

import pytest

from app import runtime
from app.models.audit import AuditLog
from app.models.contacts import Person
from app.models.orgs import Org
from app.services import company, orgs
from app.services.orgs import CORP_MISMATCH, FormInvalid, OrgForm
from tests.integration.org_binding.conftest import SUPER
from tests.integration.org_binding.test_org_binding import A, B, company_form


async def test_corpid_of_another_corp_is_a_field_error_and_nothing_is_saved_or_pulled(env) -> None:
    crossed = {**A, "appkey": B["appkey"], "appsecret": B["appsecret"]}
    with pytest.raises(FormInvalid) as info:
        await company.save_company(SUPER, company_form(env.callback_base, **crossed), rt=runtime.get())
    assert info.value.errors == {"corpid": CORP_MISMATCH}
    assert not await Org.exists()
    assert not await Person.exists()
    # Nothing was registered at DingTalk for either corp.
    assert env.sim.corp("dingcorpa0001").apps["dingkeya0001"].callback is None
    assert env.sim.corp("dingcorpb0002").apps["dingkeyb0002"].callback is None


async def test_new_org_with_crossed_corpid_refused_too(env) -> None:
    await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    await orgs.wait_for_baselines(runtime.get())
    crossed = OrgForm(name="叮当科技", callback_domain=env.callback_base, **{**B, "corpid": "dingcorpother9"})
    with pytest.raises(FormInvalid) as info:
        await orgs.create_org(SUPER, crossed, rt=runtime.get())
    assert info.value.errors["corpid"] == CORP_MISMATCH
    assert await Org.all().count() == 1


async def test_key_id_mismatch_on_registration_is_explained_not_blamed_on_the_network(env) -> None:
    result = await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    await orgs.wait_for_baselines(runtime.get())
    # An org stored before the corpid check existed: its corpid is not the appkey's corp.
    await Org.filter(id=result.org_id).update(corpid="dingcorpb0002")
    retry = await orgs.register_callback(SUPER, result.org_id, client=runtime.get().dingtalk)
    assert retry.callback_ok is False
    assert CORP_MISMATCH in retry.callback_error
    assert "外网" not in retry.callback_error and "公网" not in retry.callback_error
    assert CORP_MISMATCH in (await Org.get(id=result.org_id)).callback_error


async def test_unreachable_callback_still_gets_the_network_advice(env) -> None:
    result = await company.save_company(SUPER, company_form("http://127.0.0.1:9", **A), rt=runtime.get())
    assert result.callback_ok is False
    assert "外网" in result.callback_error and CORP_MISMATCH not in result.callback_error


async def test_dissolve_deletes_the_callback_registration_and_events_stop(env) -> None:
    await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    other = await orgs.create_org(
        SUPER, OrgForm(name="叮当科技", callback_domain=env.callback_base, **B), rt=runtime.get()
    )
    assert other.callback_ok is True, other.callback_error
    await orgs.wait_for_baselines(runtime.get())
    corp_b = env.sim.corp("dingcorpb0002")
    assert corp_b.apps["dingkeyb0002"].callback is not None
    done = await orgs.dissolve_orgs(SUPER, [other.org_id], client=runtime.get().dingtalk)
    assert done.names == ["叮当科技"] and done.warnings == []
    assert corp_b.apps["dingkeyb0002"].callback is None
    delivered_before = len(env.sim.sim.dispatcher.log)
    env.sim.sim.dispatcher.emit(corp_b, "user_add_org", user_ids=["u-after-dissolve"])
    assert await env.sim.wait_deliveries() == 0
    assert [e for e in env.sim.sim.dispatcher.log[delivered_before:] if e["corpid"] == "dingcorpb0002"] == []
    # The main org's registration is untouched.
    assert env.sim.corp("dingcorpa0001").apps["dingkeya0001"].callback is not None
    entry = await AuditLog.filter(action="org.dissolve").first()
    assert "钉钉回调注册已删除" in entry.detail


async def test_dissolve_goes_on_and_tells_the_admin_when_dingtalk_refuses(env) -> None:
    await company.save_company(SUPER, company_form(env.callback_base, **A), rt=runtime.get())
    other = await orgs.create_org(
        SUPER, OrgForm(name="叮当科技", callback_domain=env.callback_base, **B), rt=runtime.get()
    )
    await orgs.wait_for_baselines(runtime.get())
    app_b = env.sim.corp("dingcorpb0002").apps["dingkeyb0002"]
    app_b.ip_allowlist = ["10.9.9.9"]  # DingTalk now refuses every call of this app from our address
    env.sim.sim.state.tokens.clear()
    runtime.get().dingtalk.transport.invalidate_token(orgs.dingtalk_in.ding_app(await Org.get(id=other.org_id)))
    done = await orgs.dissolve_orgs(SUPER, [other.org_id], client=runtime.get().dingtalk)
    assert done.names == ["叮当科技"]
    assert len(done.warnings) == 1 and "未能删除" in done.warnings[0] and "60020" in done.warnings[0]
    assert not await Org.exists(id=other.org_id)
    assert app_b.callback is not None
    entry = await AuditLog.filter(action="org.dissolve").first()
    assert "未能删除" in entry.detail


async def test_simulator_speaks_the_unified_token_api(env) -> None:
    import aiohttp

    body = {"client_id": B["appkey"], "client_secret": B["appsecret"], "grant_type": "client_credentials"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{env.sim.base_url}/v1.0/oauth2/dingcorpb0002/token", json=body) as resp:
            assert resp.status == 200
            data = await resp.json()
            assert data["access_token"] and data["expires_in"] == 7200
        async with http.post(f"{env.sim.base_url}/v1.0/oauth2/dingcorpa0001/token", json=body) as resp:
            assert resp.status == 401 and (await resp.json())["code"] == "unauthorized.client"
        bad_grant = {**body, "grant_type": "password"}
        async with http.post(f"{env.sim.base_url}/v1.0/oauth2/dingcorpb0002/token", json=bad_grant) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == "unsupported.grant.type"
        bad_secret = {**body, "client_secret": "nope"}
        async with http.post(f"{env.sim.base_url}/v1.0/oauth2/dingcorpb0002/token", json=bad_secret) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == "invalid.client"
