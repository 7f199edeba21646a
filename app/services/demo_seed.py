"""Demo data for ``landing demo``: an initialised system with a company, its main org bound to the (simulated)
DingTalk, an EKP sync source, and a first sync. Runs once; a restarted demo keeps what the user changed."""

from __future__ import annotations

import dataclasses
import logging

from app.models.accounts import Account
from app.models.orgs import Company
from app.runtime import Runtime
from app.services import access_systems, company, orgs, sync_settings, system_init
from app.services.permissions import Actor

log = logging.getLogger(__name__)


async def seed(
    rt: Runtime,
    *,
    public_base_url: str,
    corpid: str,
    appkey: str,
    appsecret: str,
    agent_id: str,
    ekp_url: str,
    ekp_user: str,
    ekp_password: str,
) -> None:
    if await Company.exists():
        log.info("demo: company exists, nothing to seed")
        return
    admin = await Account.get(login="admin")
    # The demo acts as the super admin would; the audit log shows these steps under 'admin'.
    actor = Actor(account_id=admin.id, login="admin", display_name="管理员", is_super=True, ip="127.0.0.1")
    await system_init.run(actor, public_base_url)
    form = company.CompanyForm(
        name="叮当科技集团",
        domain="dingdang.example.com",
        org=orgs.OrgForm(
            name="叮当科技",
            corpid=corpid,
            appkey=appkey,
            appsecret=appsecret,
            agent_id=agent_id,
            callback_domain=public_base_url,
        ),
    )
    result = await company.save_company(actor, form, rt=rt)
    log.info(
        "demo: main org created (callback %s)", "成功" if result.callback_ok else result.callback_error or "未注册"
    )
    await orgs.wait_for_baselines(rt, max_wait=120)
    await sync_settings.update_settings(
        actor,
        result.org_id,
        sync_settings.SettingsInput(
            cron="0 */2 * * *",
            delete_threshold=30,
            source_enabled=True,
            source_type="EKP",
            source_name="EKP",
            source_url=ekp_url,
            source_user=ekp_user,
            source_password=ekp_password,
        ),
    )
    in_org = dataclasses.replace(actor, current_org_id=result.org_id)
    await access_systems.save_system(
        in_org,
        None,
        access_systems.SystemInput(
            name="EKP系统",
            identifier="ekp-demo-0001",
            auth_account="ekp-demo",
            auth_password="EkpDemo-2026-bind",
        ),
    )
    run_id = await sync_settings.run_now(actor, result.org_id, rt=rt)
    log.info("demo: first sync started (run %s); open 通讯录 > 同步日志 to watch it", run_id)
