"""A refused bind is audited although the request fails (issue 13, item 9), over real loopback HTTP."""

from __future__ import annotations

import aiohttp

from app.models.audit import AuditLog
from app.services import access_systems
from app.services.access_systems import SystemInput
from tests import factories
from tests.integration.access_support import console, org_admin


async def test_a_spent_identifier_is_refused_and_audited(orm, tmp_path) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    await access_systems.save_system(
        await org_admin(org),
        None,
        SystemInput(name="EKP", identifier="ekptest0001", auth_account="testuser", auth_password="test12345678"),
    )
    async with console(tmp_path) as base, aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/access/bind", json={"identifier": "ekptest0001"}) as first:
            assert first.status == 200
        async with http.post(f"{base}/api/v1/access/bind", json={"identifier": "ekptest0001"}) as second:
            assert second.status == 409
        async with http.post(f"{base}/api/v1/access/bind", json={"identifier": "no-such-id"}) as unknown:
            assert unknown.status == 404
    refused = await AuditLog.filter(action="access.bind_refused").order_by("id")
    assert [r.detail for r in refused] == ["接入标识已被使用", "接入标识不存在"]
