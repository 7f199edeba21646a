"""专属数据存储 (guide 2.2) for one organisation, through DingTalk's exclusive API.

The guide's three steps: 购买阿里云存储服务 -> 完成数据专属存储设置 (OSS链接地址 + AccessKey, 检测链接) -> 开启数据存储
服务. "检测通过后，自动开启": a passing check is followed at once by the activation call. Once opened the bucket cannot
change, only the AccessKey (更新 AccessKey). What DingTalk last reported (开通状态, 存储状态, created, used quota) is
kept so the page still shows it when DingTalk cannot be reached.

Org admins work on their own org, the super admin on any; every write is audited, the secret never appears in an
audit entry, a log line or a page (only masked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from app.core.security import mask
from app.dingtalk.client import DingTalkClient
from app.dingtalk.errors import DingTalkAPIError, DingTalkError
from app.dingtalk.exclusive_api import (
    CODE_BAD_KEY_ID,
    CODE_BAD_KEY_SECRET,
    CODE_BAD_OSS_URL,
    CODE_BUCKET_NOT_FOUND,
    CODE_UNREACHABLE,
    StorageState,
)
from app.models.exclusive import ExclusiveStorage, StorageStep
from app.models.orgs import Org
from app.services.errors import ServiceError, ValidationFailed
from app.services.exclusive_console import exclusive_org
from app.services.orgs import FormInvalid, describe_dingtalk_error
from app.services.permissions import Actor
from app.services.write import write
from app.sync.dingtalk_in import ding_app

FIELD_OSS, FIELD_KEY_ID, FIELD_KEY_SECRET = "oss_url", "access_key_id", "access_key_secret"
# Which form field a DingTalk refusal belongs next to.
CODE_FIELDS = {
    CODE_BAD_OSS_URL: FIELD_OSS,
    CODE_BUCKET_NOT_FOUND: FIELD_OSS,
    CODE_UNREACHABLE: FIELD_OSS,
    CODE_BAD_KEY_ID: FIELD_KEY_ID,
    CODE_BAD_KEY_SECRET: FIELD_KEY_SECRET,
}
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9]{8,128}$")
QUOTA_DAYS = 30
DINGTALK_TZ = timezone(timedelta(hours=8))  # DingTalk counts days in China time


class StorageRefused(ServiceError):
    """DingTalk said no; ``field`` is set when the refusal is about one of the form's fields, and ``short`` is the
    few words to show next to it (``message`` has DingTalk's answer and the advice)."""

    def __init__(self, message: str, *, field: str | None = None, short: str = "") -> None:
        super().__init__(message, field=field)
        self.short = short or message


@dataclass
class StorageView:
    org_id: int
    org_name: str
    corpid: str
    step: StorageStep
    oss_url: str
    access_key_id: str
    secret_masked: str
    open_status: int
    storage_status: int
    create_date: str
    used_quota: int
    state_read_at: datetime | None
    checked_at: datetime | None
    opened_at: datetime | None
    last_error: str
    state_error: str = ""

    @property
    def opened(self) -> bool:
        return self.open_status == 1

    @property
    def open_label(self) -> str:
        return "已开通" if self.opened else "未开通"

    @property
    def storage_label(self) -> str:
        if not self.opened:
            return "—"
        return "正常" if self.storage_status == 1 else "异常（AccessKey 失效或 bucket 无法访问，请更新 AccessKey）"

    @property
    def used_text(self) -> str:
        return format_bytes(self.used_quota)


@dataclass
class QuotaSeries:
    days: list[str]  # yyyy-MM-dd
    used_bytes: list[int]
    error: str = ""


def format_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    return f"{value} B"


async def _storage(org: Org) -> ExclusiveStorage:
    storage = await ExclusiveStorage.get_or_none(org_id=org.id)
    if storage is None:
        async with write(None):  # the org's row, made on the first visit of an admin exclusive_org let in
            storage = await ExclusiveStorage.create(org=org)
    return storage


def _view(org: Org, storage: ExclusiveStorage, state_error: str = "") -> StorageView:
    return StorageView(
        org_id=org.id,
        org_name=org.name,
        corpid=org.corpid,
        step=storage.step,
        oss_url=storage.oss_url,
        access_key_id=storage.access_key_id,
        secret_masked=mask(storage.access_key_secret),
        open_status=storage.open_status,
        storage_status=storage.storage_status,
        create_date=storage.create_date,
        used_quota=storage.used_quota,
        state_read_at=storage.state_read_at,
        checked_at=storage.checked_at,
        opened_at=storage.opened_at,
        last_error=storage.last_error,
        state_error=state_error,
    )


def _remember(storage: ExclusiveStorage, state: StorageState) -> None:
    storage.open_status, storage.storage_status = state.open_status, state.storage_status
    storage.create_date = state.create_date or storage.create_date
    storage.used_quota = state.used_quota
    storage.state_read_at = datetime.now(UTC)
    if state.opened:
        storage.step = StorageStep.OPENED
    elif storage.step is StorageStep.OPENED:
        storage.step = StorageStep.SETTINGS  # DingTalk no longer has it open: the admin sets it up again


async def get_view(actor: Actor, org_id: int | None, *, client: DingTalkClient, refresh: bool = True) -> StorageView:
    """The org's set-up; ``refresh`` asks DingTalk for the current state first (a failure is shown, not raised).

    Before a check has passed there is nothing to ask DingTalk about, so the page costs no API call."""
    org = await exclusive_org(actor, org_id)
    storage = await _storage(org)
    state_error = ""
    if refresh and (storage.checked_at is not None or storage.step is StorageStep.OPENED):
        try:
            state = await client.exclusive.get_file_storage_state(ding_app(org))
        except DingTalkError as exc:
            state_error = "读取专属存储状态失败：" + describe_dingtalk_error(exc)
        else:
            _remember(storage, state)
            async with write(None):  # what DingTalk reported, kept for the page (exclusive_org checked)
                await storage.save()
    return _view(org, storage, state_error)


async def set_step(actor: Actor, org_id: int | None, step: StorageStep) -> StorageView:
    """下一步 / 上一步 between 购买 and 设置. An opened storage stays opened."""
    org = await exclusive_org(actor, org_id)
    storage = await _storage(org)
    if step is StorageStep.OPENED or storage.step is StorageStep.OPENED:
        raise ValidationFailed("专属存储已开启或需检测通过后开启，不能手动切换到该步骤")
    if storage.step is not step:
        before = storage.step.value
        storage.step = step
        await _audit(
            actor,
            org,
            "exclusive.storage.step",
            {"step": step.value},
            "",
            before={"step": before},
            saving=storage,
            fields=["step", "updated_at"],
        )
    return _view(org, storage)


def _clean(oss_url: str, access_key_id: str, access_key_secret: str, *, need_oss: bool) -> tuple[str, str, str]:
    oss_url, access_key_id, access_key_secret = oss_url.strip(), access_key_id.strip(), access_key_secret.strip()
    errors: dict[str, str] = {}
    if need_oss:
        parts = urlsplit(oss_url)
        if not oss_url:
            errors[FIELD_OSS] = "请完整输入阿里云服务的bucket域名，格式如https://xxxx.oss-cn-hangzhou.aliyuncs.com"
        elif parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") or parts.query:
            errors[FIELD_OSS] = (
                "OSS链接地址需为 https:// 开头的 bucket 域名，不带路径，如 https://xxxx.oss-cn-hangzhou.aliyuncs.com"
            )
    if not access_key_id:
        errors[FIELD_KEY_ID] = "请完整输入购买阿里云服务时所提供的AccessKey ID"
    elif not KEY_ID_PATTERN.match(access_key_id):
        errors[FIELD_KEY_ID] = "AccessKey ID 只包含字母和数字（8-128 位）"
    if not access_key_secret:
        errors[FIELD_KEY_SECRET] = "请完整输入购买阿里云服务时所提供的AccessKey Secret"
    elif len(access_key_secret) > 128 or any(c.isspace() for c in access_key_secret):
        errors[FIELD_KEY_SECRET] = "AccessKey Secret 不能包含空格，最长 128 位"
    if errors:
        raise FormInvalid(errors)
    return oss_url.rstrip("/"), access_key_id, access_key_secret


def _describe(exc: DingTalkError) -> str:
    """Our Chinese words for the storage codes first (DingTalk's own text may be Aliyun's English), then its text."""
    if isinstance(exc, DingTalkAPIError) and exc.info is not None and str(exc.errcode) in CODE_FIELDS:
        text = f"{exc.info.zh}（钉钉返回 {exc.errcode}：{exc.errmsg}）"
        return text + (f"\n处理建议：{exc.advice}" if exc.advice else "")
    return describe_dingtalk_error(exc)


def _refused(exc: DingTalkError, what: str) -> StorageRefused:
    field = CODE_FIELDS.get(str(exc.errcode)) if isinstance(exc, DingTalkAPIError) else None
    short = exc.info.zh if isinstance(exc, DingTalkAPIError) and exc.info is not None else ""
    return StorageRefused(f"{what}：" + _describe(exc), field=field, short=short)


async def check_and_open(
    actor: Actor,
    org_id: int | None,
    *,
    client: DingTalkClient,
    oss_url: str,
    access_key_id: str,
    access_key_secret: str,
) -> StorageView:
    """检测链接; when the check passes, 开启 follows at once (guide step 3). Nothing is stored on a failed check."""
    org = await exclusive_org(actor, org_id)
    storage = await _storage(org)
    if storage.step is StorageStep.OPENED and storage.open_status == 1:
        raise ValidationFailed("专属存储已开启，如需更换密钥请使用“更新 AccessKey”")
    oss_url, access_key_id, access_key_secret = _clean(oss_url, access_key_id, access_key_secret, need_oss=True)
    app = ding_app(org)
    detail = {"oss_url": oss_url, "access_key_id": access_key_id}
    try:
        result = await client.exclusive.check_file_storage(
            app, oss=oss_url, access_key_id=access_key_id, access_key_secret=access_key_secret
        )
    except DingTalkError as exc:
        refused = _refused(exc, "检测未通过")
        await _audit(actor, org, "exclusive.storage.check", detail, f"失败：{refused.message}")
        raise refused from None
    if not result.passed:
        await _audit(actor, org, "exclusive.storage.check", detail, f"失败：checkState={result.check_state}")
        raise StorageRefused(f"检测未通过：钉钉返回 checkState={result.check_state}", field=FIELD_OSS)
    before = {"oss_url": storage.oss_url, "access_key_id": storage.access_key_id, "step": storage.step.value}
    storage.oss_url, storage.access_key_id, storage.access_key_secret = oss_url, access_key_id, access_key_secret
    storage.checked_at, storage.step, storage.last_error = datetime.now(UTC), StorageStep.SETTINGS, ""
    await _audit(actor, org, "exclusive.storage.check", detail, "检测通过", saving=storage)
    try:
        state = await client.exclusive.activate_file_storage(
            app, oss=oss_url, access_key_id=access_key_id, access_key_secret=access_key_secret
        )
    except DingTalkError as exc:
        refused = _refused(exc, "检测已通过，开启失败")
        storage.last_error = refused.message
        await _audit(
            actor,
            org,
            "exclusive.storage.open",
            detail,
            f"失败：{refused.message}",
            before=before,
            saving=storage,
            fields=["last_error", "updated_at"],
        )
        raise refused from None
    _remember(storage, state)
    storage.step, storage.opened_at = StorageStep.OPENED, datetime.now(UTC)
    after = {**detail, "access_key_secret": "changed", "step": StorageStep.OPENED.value}
    await _audit(actor, org, "exclusive.storage.open", after, "已开启专属数据存储", before=before, saving=storage)
    return _view(org, storage)


async def update_access_key(
    actor: Actor, org_id: int | None, *, client: DingTalkClient, access_key_id: str, access_key_secret: str
) -> StorageView:
    """更新 AccessKey of an opened storage; DingTalk checks the new key against the bucket before accepting it."""
    org = await exclusive_org(actor, org_id)
    storage = await _storage(org)
    if storage.step is not StorageStep.OPENED:
        raise ValidationFailed("专属存储尚未开启，请先完成设置并检测链接")
    _, access_key_id, access_key_secret = _clean("", access_key_id, access_key_secret, need_oss=False)
    try:
        await client.exclusive.update_file_storage_key(
            ding_app(org), access_key_id=access_key_id, access_key_secret=access_key_secret
        )
    except DingTalkError as exc:
        refused = _refused(exc, "更新 AccessKey 失败")
        await _audit(actor, org, "exclusive.storage.update_key", {"access_key_id": access_key_id}, refused.message)
        raise refused from None
    before = {"access_key_id": storage.access_key_id, "access_key_secret": "old"}
    storage.access_key_id, storage.access_key_secret, storage.last_error = access_key_id, access_key_secret, ""
    after = {"access_key_id": access_key_id, "access_key_secret": "changed"}
    await _audit(actor, org, "exclusive.storage.update_key", after, "已更新", before=before, saving=storage)
    return await get_view(actor, org.id, client=client)


async def quota_series(
    actor: Actor, org_id: int | None, *, client: DingTalkClient, days: int = QUOTA_DAYS, today: date | None = None
) -> QuotaSeries:
    """Used storage per day over the last ``days`` days, as DingTalk reports it (empty before it is opened)."""
    org = await exclusive_org(actor, org_id)
    storage = await _storage(org)
    if storage.step is not StorageStep.OPENED:
        return QuotaSeries([], [])
    end = today or datetime.now(DINGTALK_TZ).date()
    start = end - timedelta(days=max(days, 1) - 1)
    try:
        points = await client.exclusive.get_file_storage_quota(ding_app(org), start=start, end=end)
    except DingTalkError as exc:
        return QuotaSeries([], [], "读取存储用量失败：" + describe_dingtalk_error(exc))
    labels = [f"{p.statistic_time[:4]}-{p.statistic_time[4:6]}-{p.statistic_time[6:8]}" for p in points]
    return QuotaSeries(labels, [p.used_storage for p in points])


async def _audit(
    actor: Actor,
    org: Org,
    action: str,
    after: dict,
    detail: str,
    *,
    before: dict | None = None,
    saving: ExclusiveStorage | None = None,
    fields: list[str] | None = None,
) -> None:
    """The storage's audit line, in one unit of work with the change it records (``saving``: the row to save).
    exclusive_org checked the permission."""
    async with write(actor, org_id=org.id, org_name=org.name, kind="exclusive_storage") as w:
        if saving is not None:
            await saving.save(update_fields=fields)
        await w.audit(action, object_id=org.id, object_name="专属数据存储", before=before, after=after, detail=detail)
