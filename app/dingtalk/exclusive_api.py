"""专属钉钉 (exclusive DingTalk) 专属数据存储 calls (``exclusive_1_0`` fileStorages): ``DingTalkClient.exclusive``.

DingTalk archives an exclusive org's files in the org's own Aliyun OSS bucket: we check that DingTalk can reach the
bucket with the given AccessKey, switch the storage on, read its state and daily usage, and rotate the AccessKey.
Every call goes through ``Transport.api`` (token header, per-app per-API rate limit, retries, error mapping).

The SDK does not document the integer states, units or failure codes. The choices below are made here, once, and
the simulator speaks the same way:

- ``checkState``: 1 = DingTalk reached the bucket with this key. A failed check is an HTTP 400 error, never a 0.
- ``fileStorageOpenStatus``: 1 = 已开通, 0 = 未开通. ``storageStatus``: 1 = 正常, 0 = 异常 (the stored key no longer
  opens the bucket, or the bucket is unreachable).
- ``usedQuota`` / ``usedStorage``: bytes. ``createDate``: ``yyyy-MM-dd HH:mm:ss`` (China time).
- quota data: ``type`` ``day`` or ``month``; ``startTime`` / ``endTime`` as ``yyyyMMdd``; ``statisticTime``
  ``yyyyMMdd`` (day) or ``yyyyMM`` (month).
- failure codes (HTTP 400): ``invalidParameter`` (missing field), ``invalidParameter.oss.url`` (not a bucket
  domain), ``fileStorage.oss.bucketNotFound``, ``fileStorage.oss.invalidAccessKeyId``,
  ``fileStorage.oss.signatureNotMatch`` (wrong secret), ``fileStorage.oss.connectFailed`` (bucket unreachable),
  ``fileStorage.notOpened``, ``fileStorage.alreadyOpened`` (another bucket is already bound),
  ``invalidParameter.targetCorpId``. Their Chinese meaning, kind and advice live in ``app.dingtalk.errcodes``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AliasChoices, Field

from app.dingtalk.shapes import DingTalkModel
from app.dingtalk.transport import App, Transport

CHECK_PASSED = 1
OPEN = 1
STORAGE_OK = 1
QUOTA_DATE_FORMAT = "%Y%m%d"
CREATE_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

# Failure codes, named once for callers that react to one of them (which form field a message belongs to).
CODE_BAD_OSS_URL = "invalidParameter.oss.url"
CODE_BUCKET_NOT_FOUND = "fileStorage.oss.bucketNotFound"
CODE_BAD_KEY_ID = "fileStorage.oss.invalidAccessKeyId"
CODE_BAD_KEY_SECRET = "fileStorage.oss.signatureNotMatch"
CODE_UNREACHABLE = "fileStorage.oss.connectFailed"
CODE_NOT_OPENED = "fileStorage.notOpened"
CODE_ALREADY_OPENED = "fileStorage.alreadyOpened"


def _alias(*names: str) -> Any:
    return AliasChoices(*names)


class StorageCheck(DingTalkModel):
    check_state: int = Field(default=0, validation_alias=_alias("checkState", "check_state"))
    oss: str = ""
    access_key_id: str = Field(default="", validation_alias=_alias("accessKeyId", "access_key_id"))

    @property
    def passed(self) -> bool:
        return self.check_state == CHECK_PASSED


class StorageState(DingTalkModel):
    """The answer of ``active`` and of ``states`` (``oss`` / ``accessKeyId`` only in the latter)."""

    open_status: int = Field(default=0, validation_alias=_alias("fileStorageOpenStatus", "open_status"))
    storage_status: int = Field(default=0, validation_alias=_alias("storageStatus", "storage_status"))
    oss: str = ""
    access_key_id: str = Field(default="", validation_alias=_alias("accessKeyId", "access_key_id"))
    create_date: str = Field(default="", validation_alias=_alias("createDate", "create_date"))
    used_quota: int = Field(default=0, validation_alias=_alias("usedQuota", "used_quota"))

    @property
    def opened(self) -> bool:
        return self.open_status == OPEN

    @property
    def healthy(self) -> bool:
        return self.storage_status == STORAGE_OK


class StorageConfig(DingTalkModel):
    oss: str = ""
    access_key_id: str = Field(default="", validation_alias=_alias("accessKeyId", "access_key_id"))


class QuotaPoint(DingTalkModel):
    statistic_time: str = Field(validation_alias=_alias("statisticTime", "statistic_time"))
    used_storage: int = Field(default=0, validation_alias=_alias("usedStorage", "used_storage"))


class ExclusiveAPI:
    """专属数据存储 wrappers. ``target_corp_id`` defaults to the calling app's own corp."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def check_file_storage(
        self, app: App, *, oss: str, access_key_id: str, access_key_secret: str, target_corp_id: str | None = None
    ) -> StorageCheck:
        """检查专属存储OSS连接: raises ``DingTalkAPIError`` with one of the codes above when the bucket says no."""
        body = _key_body(app, target_corp_id, access_key_id, access_key_secret, oss=oss)
        data = await self._transport.api(app, "POST", "/v1.0/exclusive/fileStorages/connections/check", json_body=body)
        return StorageCheck.model_validate(data)

    async def activate_file_storage(
        self, app: App, *, oss: str, access_key_id: str, access_key_secret: str, target_corp_id: str | None = None
    ) -> StorageState:
        """开启专属存储 with the bucket and key that passed the check."""
        body = _key_body(app, target_corp_id, access_key_id, access_key_secret, oss=oss)
        data = await self._transport.api(app, "POST", "/v1.0/exclusive/fileStorages/active", json_body=body)
        return StorageState.model_validate(data)

    async def get_file_storage_state(self, app: App, *, target_corp_id: str | None = None) -> StorageState:
        params = {"targetCorpId": target_corp_id or app.corpid}
        data = await self._transport.api(app, "GET", "/v1.0/exclusive/fileStorages/states", params=params)
        return StorageState.model_validate(data)

    async def update_file_storage_key(
        self, app: App, *, access_key_id: str, access_key_secret: str, target_corp_id: str | None = None
    ) -> StorageConfig:
        """更新 AccessKey of an opened storage (the bucket itself cannot change once opened)."""
        body = _key_body(app, target_corp_id, access_key_id, access_key_secret)
        data = await self._transport.api(app, "PUT", "/v1.0/exclusive/fileStorages/configurations", json_body=body)
        return StorageConfig.model_validate(data)

    async def get_file_storage_quota(
        self,
        app: App,
        *,
        start: date,
        end: date,
        period: Literal["day", "month"] = "day",
        target_corp_id: str | None = None,
    ) -> list[QuotaPoint]:
        """Used storage per day (or month) between ``start`` and ``end``, oldest first."""
        params = {
            "targetCorpId": target_corp_id or app.corpid,
            "type": period,
            "startTime": start.strftime(QUOTA_DATE_FORMAT),
            "endTime": end.strftime(QUOTA_DATE_FORMAT),
        }
        data = await self._transport.api(app, "GET", "/v1.0/exclusive/fileStorages/quotaDatas", params=params)
        points = [QuotaPoint.model_validate(item) for item in data.get("quotaModelList") or []]
        return sorted(points, key=lambda p: p.statistic_time)


def _key_body(
    app: App, target_corp_id: str | None, access_key_id: str, access_key_secret: str, *, oss: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accessKeyId": access_key_id,
        "accessKeySecret": access_key_secret,
        "targetCorpId": target_corp_id or app.corpid,
    }
    if oss is not None:
        body["oss"] = oss
    return body
