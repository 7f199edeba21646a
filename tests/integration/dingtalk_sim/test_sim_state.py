"""Saving, loading and resetting the whole simulator state; the CLI arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim_helpers import CORPID, Api

from app.dingtalk.simulator import SimulatorHandle, start_simulator
from app.dingtalk.simulator.cli import add_arguments


async def test_save_and_load_round_trip(sim: SimulatorHandle, api: Api, tmp_path: Path) -> None:
    dept = (await api.post("/topapi/v2/department/create", {"name": "持久部", "parent_id": 1}))["result"]["dept_id"]
    created = await api.post(
        "/topapi/v2/user/create", {"userid": "keep", "name": "留存", "mobile": "13712345678", "dept_id_list": str(dept)}
    )
    assert created["errcode"] == 0
    token = await api.token()
    path = tmp_path / "state.json"
    await api.control("POST", "/state/save", {"path": str(path)})
    assert path.is_file()

    other = await start_simulator(corps=[f"{CORPID}:x:y"])
    try:
        async with api.http.post(f"{other.base_url}/_sim/state/load", json={"path": str(path)}) as r:
            assert r.status == 200
        # Departments, users, ids and even the issued token survive.
        reloaded = Api(api.http, other.base_url)
        got = await reloaded.post("/topapi/v2/user/get", {"userid": "keep"}, token=token)
        assert got["errcode"] == 0 and got["result"]["dept_id_list"] == [dept]
        again = await reloaded.post("/topapi/v2/department/create", {"name": "新部", "parent_id": 1}, token=token)
        assert again["result"]["dept_id"] != dept
    finally:
        await other.close()

    snapshot = await api.control("GET", "/state")
    assert snapshot["version"] == 1 and CORPID in snapshot["corps"]
    await api.control("POST", "/reset")
    assert (await api.post("/topapi/v2/user/get", {"userid": "keep"}))["errcode"] == 40014  # tokens are gone too
    api.tokens.clear()
    assert (await api.post("/topapi/v2/user/get", {"userid": "keep"}))["errcode"] == 60121
    await api.control("PUT", "/state", snapshot)
    assert (await api.post("/topapi/v2/user/get", {"userid": "keep"}, token=token))["errcode"] == 0


async def test_corps_listing(sim: SimulatorHandle, api: Api) -> None:
    corps = await api.control("GET", "/corps")
    assert [c["corpid"] for c in corps] == [CORPID, "dingcorp0002"]
    assert corps[0]["apps"][0]["agentid"] == 880001 and corps[0]["user_count"] == 1


def test_cli_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--corp", "c1:k1:s1:9", "--corp", "c2:k2:s2", "--qps", "5", "--demo", "--time-scale", "0.1"]
    )
    assert args.corp == ["c1:k1:s1:9", "c2:k2:s2"] and args.qps == 5 and args.demo and args.time_scale == 0.1
    assert args.state is None
