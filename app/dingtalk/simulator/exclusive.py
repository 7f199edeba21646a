"""专属数据存储 (``/v1.0/exclusive/fileStorages/...``) and the Aliyun OSS buckets DingTalk would reach.

Real DingTalk connects to the customer's bucket with the AccessKey it is given. Here the buckets are plain data
(``SimState.exclusive["buckets"]``: domain -> key pair, reachable) that tests and the demo register through the
control API, so every failure a real admin meets can be produced on purpose: a URL that is not a bucket domain,
an unknown bucket, a wrong AccessKey ID or Secret, a bucket DingTalk cannot reach, a key rotated at Aliyun after
the storage was opened (``storageStatus`` turns 0 until the key is updated).

States, units and codes follow the choices written down in ``app/dingtalk/exclusive_api.py``. Usage per day is
kept per corp (``usage``: yyyyMMdd -> bytes); ``quotaDatas`` answers one point per day (or month) from the day the
storage was opened, carrying the last known value forward.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import V1Error
from .routing import Ctx, RouteTable

if TYPE_CHECKING:
    from .state import SimState

routes = RouteTable()

CHINA = timezone(timedelta(hours=8))
BUCKET_DOMAIN = re.compile(r"^https://[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\.oss-[a-z0-9-]+\.aliyuncs\.com/?$")
DAY = "%Y%m%d"
MAX_QUOTA_DAYS = 366


def _store(state: SimState) -> dict[str, Any]:
    state.exclusive.setdefault("buckets", {})
    state.exclusive.setdefault("storages", {})
    return state.exclusive


def add_bucket(
    state: SimState, oss: str, access_key_id: str, access_key_secret: str, *, reachable: bool = True
) -> dict[str, Any]:
    """Create (or replace) a bucket that DingTalk can be pointed at."""
    bucket = {
        "oss": _domain(oss),
        "accessKeyId": access_key_id,
        "accessKeySecret": access_key_secret,
        "reachable": reachable,
    }
    _store(state)["buckets"][bucket["oss"]] = bucket
    return bucket


def _domain(oss: str) -> str:
    return oss.strip().rstrip("/").lower()


def _now_china() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC).astimezone(CHINA)


def _bad(code: str, message: str) -> V1Error:
    return V1Error(400, code, message)


def _required(ctx: Ctx, *names: str) -> list[str]:
    values = []
    for name in names:
        value = ctx.params.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _bad("invalidParameter", f"缺少参数 {name}")
        values.append(value.strip())
    return values


def _target(ctx: Ctx) -> str:
    corp = ctx.require_corp()
    target = str(ctx.params.get("targetCorpId") or "").strip()
    if not target:
        raise _bad("invalidParameter", "缺少参数 targetCorpId")
    if target != corp.corpid:
        raise _bad("invalidParameter.targetCorpId", "targetCorpId 不属于当前应用所在的专属组织")
    return target


def _connect(state: SimState, oss: str, key_id: str, key_secret: str) -> dict[str, Any]:
    """What DingTalk's connection test to the bucket finds; raises the matching error."""
    if not BUCKET_DOMAIN.match(oss.strip().lower()):
        raise _bad("invalidParameter.oss.url", f"OSS链接地址格式不正确: {oss}")
    bucket = _store(state)["buckets"].get(_domain(oss))
    if bucket is None:
        raise _bad("fileStorage.oss.bucketNotFound", "The specified bucket does not exist.")
    if not bucket["reachable"]:
        raise _bad("fileStorage.oss.connectFailed", "连接OSS失败: connect timed out")
    if key_id != bucket["accessKeyId"]:
        raise _bad("fileStorage.oss.invalidAccessKeyId", "The OSS Access Key Id you provided does not exist.")
    if key_secret != bucket["accessKeySecret"]:
        raise _bad(
            "fileStorage.oss.signatureNotMatch", "The request signature we calculated does not match the signature."
        )
    return bucket


def _storage_status(state: SimState, storage: dict[str, Any]) -> int:
    bucket = _store(state)["buckets"].get(storage["oss"])
    ok = (
        bucket is not None
        and bucket["reachable"]
        and bucket["accessKeyId"] == storage["accessKeyId"]
        and bucket["accessKeySecret"] == storage["accessKeySecret"]
    )
    return 1 if ok else 0


def _used(storage: dict[str, Any]) -> int:
    usage = storage.get("usage") or {}
    return int(usage[max(usage)]) if usage else 0


@routes.post("/v1.0/exclusive/fileStorages/connections/check")
async def check_connection(ctx: Ctx) -> dict[str, Any]:
    _target(ctx)
    oss, key_id, key_secret = _required(ctx, "oss", "accessKeyId", "accessKeySecret")
    _connect(ctx.sim.state, oss, key_id, key_secret)
    return {"checkState": 1, "oss": oss, "accessKeyId": key_id}


@routes.post("/v1.0/exclusive/fileStorages/active")
async def activate(ctx: Ctx) -> dict[str, Any]:
    corpid = _target(ctx)
    oss, key_id, key_secret = _required(ctx, "oss", "accessKeyId", "accessKeySecret")
    storages = _store(ctx.sim.state)["storages"]
    existing = storages.get(corpid)
    if existing is not None and existing["oss"] != _domain(oss):
        raise _bad("fileStorage.alreadyOpened", "专属存储已开通，不能更换OSS")
    _connect(ctx.sim.state, oss, key_id, key_secret)
    if existing is None:
        now = _now_china()
        existing = storages[corpid] = {
            "oss": _domain(oss),
            "createDate": now.strftime("%Y-%m-%d %H:%M:%S"),
            "usage": {now.strftime(DAY): 0},
        }
    existing.update(accessKeyId=key_id, accessKeySecret=key_secret)
    return {
        "fileStorageOpenStatus": 1,
        "storageStatus": _storage_status(ctx.sim.state, existing),
        "createDate": existing["createDate"],
        "usedQuota": _used(existing),
    }


@routes.get("/v1.0/exclusive/fileStorages/states")
async def get_state(ctx: Ctx) -> dict[str, Any]:
    corpid = _target(ctx)
    storage = _store(ctx.sim.state)["storages"].get(corpid)
    if storage is None:
        return {"fileStorageOpenStatus": 0, "storageStatus": 0, "usedQuota": 0}
    return {
        "fileStorageOpenStatus": 1,
        "storageStatus": _storage_status(ctx.sim.state, storage),
        "oss": storage["oss"],
        "accessKeyId": storage["accessKeyId"],
        "createDate": storage["createDate"],
        "usedQuota": _used(storage),
    }


@routes.put("/v1.0/exclusive/fileStorages/configurations")
async def update_configuration(ctx: Ctx) -> dict[str, Any]:
    corpid = _target(ctx)
    key_id, key_secret = _required(ctx, "accessKeyId", "accessKeySecret")
    storage = _store(ctx.sim.state)["storages"].get(corpid)
    if storage is None:
        raise _bad("fileStorage.notOpened", "专属存储尚未开通")
    _connect(ctx.sim.state, storage["oss"], key_id, key_secret)
    storage.update(accessKeyId=key_id, accessKeySecret=key_secret)
    return {"oss": storage["oss"], "accessKeyId": key_id}


def _day(value: str, name: str) -> date:
    try:
        return datetime.strptime(value, DAY).date()
    except ValueError:
        raise _bad("invalidParameter", f"{name} 格式应为 yyyyMMdd") from None


@routes.get("/v1.0/exclusive/fileStorages/quotaDatas")
async def quota_data(ctx: Ctx) -> dict[str, Any]:
    corpid = _target(ctx)
    kind, start_text, end_text = _required(ctx, "type", "startTime", "endTime")
    if kind not in ("day", "month"):
        raise _bad("invalidParameter", "type 只支持 day 或 month")
    start, end = _day(start_text, "startTime"), _day(end_text, "endTime")
    if end < start or (end - start).days > MAX_QUOTA_DAYS:
        raise _bad("invalidParameter", f"时间区间不合法（结束不早于开始，且不超过 {MAX_QUOTA_DAYS} 天）")
    storage = _store(ctx.sim.state)["storages"].get(corpid)
    if storage is None:
        raise _bad("fileStorage.notOpened", "专属存储尚未开通")
    opened = datetime.strptime(storage["createDate"][:10], "%Y-%m-%d").date()
    today = _now_china().date()
    usage = {datetime.strptime(k, DAY).date(): int(v) for k, v in (storage.get("usage") or {}).items()}
    points: dict[str, int] = {}
    last = 0
    day = min(start, opened)
    while day <= min(end, today):
        last = usage.get(day, last)
        if day >= max(start, opened):
            key = day.strftime(DAY) if kind == "day" else day.strftime("%Y%m")
            points[key] = last  # a month keeps its last day's value
        day += timedelta(days=1)
    return {"quotaModelList": [{"statisticTime": k, "usedStorage": v} for k, v in points.items()]}


# -- /_sim/ control: buckets and usage ----------------------------------------------------------------------------


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json() if request.can_read_body else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}', content_type="application/json")
    return data


def _state(request: web.Request) -> SimState:
    from .server import SIM_KEY

    return request.app[SIM_KEY].state


async def put_bucket(request: web.Request) -> web.Response:
    """``{"oss", "accessKeyId", "accessKeySecret", "reachable"}``: create or replace a bucket."""
    data = await _body(request)
    if not all(isinstance(data.get(k), str) and data[k] for k in ("oss", "accessKeyId", "accessKeySecret")):
        return web.json_response({"error": "oss, accessKeyId and accessKeySecret are required"}, status=400)
    bucket = add_bucket(
        _state(request),
        data["oss"],
        data["accessKeyId"],
        data["accessKeySecret"],
        reachable=bool(data.get("reachable", True)),
    )
    return web.json_response(bucket)


async def list_buckets(request: web.Request) -> web.Response:
    return web.json_response(list(_store(_state(request))["buckets"].values()))


async def get_storage(request: web.Request) -> web.Response:
    storage = _store(_state(request))["storages"].get(request.match_info["corpid"])
    if storage is None:
        return web.json_response({"error": "storage not opened"}, status=404)
    return web.json_response({k: v for k, v in storage.items() if k != "accessKeySecret"})


async def put_usage(request: web.Request) -> web.Response:
    """``{"usage": {"yyyyMMdd": bytes}, "createDate": "yyyy-MM-dd HH:mm:ss"}``: what the bucket has held."""
    data = await _body(request)
    storage = _store(_state(request))["storages"].get(request.match_info["corpid"])
    if storage is None:
        return web.json_response({"error": "storage not opened"}, status=404)
    usage = data.get("usage") or {}
    try:
        parsed = {datetime.strptime(k, DAY).strftime(DAY): int(v) for k, v in usage.items()}
        if data.get("createDate"):
            datetime.strptime(data["createDate"], "%Y-%m-%d %H:%M:%S")
            storage["createDate"] = data["createDate"]
    except (TypeError, ValueError, AttributeError):
        message = "usage keys are yyyyMMdd, values bytes; createDate yyyy-MM-dd HH:mm:ss"
        return web.json_response({"error": message}, status=400)
    storage.setdefault("usage", {}).update(parsed)
    return web.json_response({"usedQuota": _used(storage), "days": len(storage["usage"])})


def setup_control(app: web.Application) -> None:
    app.router.add_route("PUT", "/_sim/exclusive/buckets", put_bucket)
    app.router.add_route("GET", "/_sim/exclusive/buckets", list_buckets)
    app.router.add_route("GET", "/_sim/corps/{corpid}/exclusive/storage", get_storage)
    app.router.add_route("PUT", "/_sim/corps/{corpid}/exclusive/usage", put_usage)
