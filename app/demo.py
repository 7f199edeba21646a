"""``landing demo``: the console plus a DingTalk simulator and an EKP simulator on loopback, with a seeded company.

A newcomer runs one command and sees the whole system working: a company with a configured main organisation,
its callback registered with the (simulated) DingTalk, an EKP sync source, and a first sync that brings the EKP
organisation into LanDing and pushes it to DingTalk. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import logging
import os

from app import runtime
from app.core.config import get_settings, reset_settings_cache

log = logging.getLogger(__name__)

DEMO_CORP = "dingdemo6f3a9c2e41b7"
DEMO_APPKEY = "dingdemoappkey01"
DEMO_APPSECRET = "DemoAppSecret-9b41f27ce0d34a5f8e6c1a2b3d4e5f60"
DEMO_AGENT_ID = "100001"
EKP_USER = "landing"
EKP_PASSWORD = "ekp-demo-2026"
# The simulated Aliyun OSS bucket that 设置 > 专属钉钉 > 专属数据存储 can be pointed at in the demo.
DEMO_OSS = "https://landing-demo.oss-cn-hangzhou.aliyuncs.com"
DEMO_OSS_KEY_ID = "LTAI5tDemoLanDing2026"
DEMO_OSS_KEY_SECRET = "DemoOssSecret9f8e7d6c5b4a3210"


def run_demo(port: int = 8080, dingtalk_port: int = 18081, ekp_port: int = 18082, connector_port: int = 8090) -> None:
    os.environ["LANDING_PORT"] = str(port)
    os.environ.setdefault("LANDING_PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    os.environ["LANDING_DINGTALK_OAPI_BASE"] = f"http://127.0.0.1:{dingtalk_port}"
    os.environ["LANDING_DINGTALK_API_BASE"] = f"http://127.0.0.1:{dingtalk_port}"
    # The EKP simulator and the demo's receivers listen on loopback; a real install allows only its EKP's range.
    os.environ.setdefault("LANDING_OUTBOUND_ALLOWED_RANGES", "127.0.0.1/32")
    reset_settings_cache()
    settings = get_settings()

    async def simulators(rt: runtime.Runtime):
        from app.dingtalk.simulator import start_simulator as start_dingtalk
        from app.ekp.simulator import start_simulator as start_ekp

        dingtalk = await start_dingtalk(
            corps=[f"{DEMO_CORP}:{DEMO_APPKEY}:{DEMO_APPSECRET}:{DEMO_AGENT_ID}"], port=dingtalk_port, qps=20
        )
        from app.dingtalk.simulator.exclusive import add_bucket

        add_bucket(dingtalk.sim.state, DEMO_OSS, DEMO_OSS_KEY_ID, DEMO_OSS_KEY_SECRET)
        ekp = await start_ekp(port=ekp_port, user=EKP_USER, password=EKP_PASSWORD, depts=24, persons=160, seed=7)
        log.info("demo simulators: DingTalk %s, EKP %s", dingtalk.base_url, ekp.base_url)
        seeding = rt.tasks.spawn("demo-seed", _seed(rt, ekp.base_url))
        from app.connector import demo as connector_demo

        stop_connector = await connector_demo.start(
            port=connector_port,
            console_url=rt.settings.effective_public_base_url,
            dingtalk_url=dingtalk.base_url,
            ekp_root=ekp.root_url,
            data_dir=rt.settings.data_dir / "connector",
        )

        async def stop() -> None:
            seeding.cancel()
            await stop_connector()
            await dingtalk.close()
            await ekp.close()

        return stop

    from app.main import serve

    print(f"蓝钉管理平台 demo: http://127.0.0.1:{port}")
    print("Log in as admin / 1 (you will be asked to set a new password).")
    print(f"专属数据存储 demo bucket: {DEMO_OSS}, AccessKey ID {DEMO_OSS_KEY_ID}, Secret {DEMO_OSS_KEY_SECRET}")
    print(f"蓝钉集成组件 (connector): http://127.0.0.1:{connector_port} (admin / 1)")
    print(
        f"EKP 待办（模拟）: http://127.0.0.1:{ekp_port}/_sim/ui/todos, 钉钉用户页: http://127.0.0.1:{dingtalk_port}/_sim/ui/users"
    )
    serve(settings, extra_workers=(runtime.Worker("demo-simulators", prepare=simulators),))


async def _wait_until_serving(rt: runtime.Runtime, base_url: str) -> None:
    # Binding the org makes DingTalk call our callback URL, so the console must already accept requests.
    for _ in range(200):
        try:
            async with rt.http.get(f"{base_url}/healthz") as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.1)


async def _seed(rt: runtime.Runtime, ekp_url: str) -> None:
    """Create the demo company once; later starts keep what the user changed."""
    from app.services import demo_seed

    base_url = rt.settings.effective_public_base_url
    await _wait_until_serving(rt, base_url)
    try:
        await demo_seed.seed(
            rt,
            public_base_url=base_url,
            corpid=DEMO_CORP,
            appkey=DEMO_APPKEY,
            appsecret=DEMO_APPSECRET,
            agent_id=DEMO_AGENT_ID,
            ekp_url=ekp_url,
            ekp_user=EKP_USER,
            ekp_password=EKP_PASSWORD,
        )
    except Exception:
        log.exception("demo seeding failed; the console still runs, configure it by hand")
