"""Pushing encrypted events to registered callback URLs: the check_url handshake, retries and the failed list.

DingTalk's rules reproduced here: one POST per event with ``signature`` (or ``msg_signature`` for console-style
push), ``timestamp`` and ``nonce`` in the query and ``{"encrypt": ...}`` as the body; the receiver must answer
HTTP 200 with the encrypted string ``success`` within the deadline. A failed push is retried after 10 s and
then after 30 s more (both multiplied by the time scale); after that the event is parked in the app's failed
list, read (and consumed) through ``get_call_back_failed_result``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from app.dingtalk.crypto import CallbackCryptoError, DingTalkCrypto

from .state import App, CallbackRegistration, Corp, now_ms

if TYPE_CHECKING:
    from .server import Simulator

log = logging.getLogger(__name__)

RETRY_DELAYS = (10.0, 30.0)
DEADLINES = {"legacy": 1.5, "console": 2.5}
DEPT_EVENTS = {"org_dept_create", "org_dept_modify", "org_dept_remove"}
CONTACT_TAGS = (
    "user_add_org",
    "user_modify_org",
    "user_leave_org",
    "user_active_org",
    "org_admin_add",
    "org_admin_remove",
    "org_dept_create",
    "org_dept_modify",
    "org_dept_remove",
    "org_change",
    "org_remove",
    "label_user_change",
    "label_conf_add",
    "label_conf_modify",
    "label_conf_del",
)
# Non-contact tags DingTalk also accepts on register_call_back (approval, attendance, chat ...).
OTHER_TAGS = (
    "bpms_task_change",
    "bpms_instance_change",
    "attendance_check_record",
    "attendance_schedule_change",
    "attendance_overtime_duration",
    "chat_add_member",
    "chat_remove_member",
    "chat_quit",
    "chat_update_owner",
    "chat_update_title",
    "chat_disband",
    "check_in",
    "edu_user_insert",
)
KNOWN_TAGS = frozenset(CONTACT_TAGS + OTHER_TAGS)


class HandshakeError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass
class Event:
    event_id: str
    corpid: str
    appkey: str
    tag: str
    user_ids: list[str] | None
    dept_ids: list[int] | None
    event_time: int
    operator: str | None = None


def _nonce() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(8))


class CallbackDispatcher:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Never send proxies' credentials or reuse env proxies: pushes go straight to the registered URL.
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def wait_idle(self, max_wait: float = 30.0) -> int:
        """Wait until every scheduled push (including its retries) has finished; returns the count left."""
        deadline = time.monotonic() + max_wait
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(list(self._tasks), timeout=max(0.0, deadline - time.monotonic()))
        return len(self._tasks)

    # -- emitting ---------------------------------------------------------------------------------------------

    def emit(
        self,
        corp: Corp,
        tag: str,
        *,
        user_ids: list[str] | None = None,
        dept_ids: list[int] | None = None,
        operator: str | None = None,
    ) -> None:
        """Schedule ``tag`` for every app of ``corp`` subscribed to it; returns at once."""
        for app in corp.apps.values():
            if app.callback is None or tag not in app.callback.call_back_tag:
                continue
            event = Event(
                event_id=uuid.uuid4().hex,
                corpid=corp.corpid,
                appkey=app.appkey,
                tag=tag,
                user_ids=user_ids,
                dept_ids=dept_ids,
                event_time=now_ms(),
                operator=operator,
            )
            task = asyncio.get_running_loop().create_task(self._deliver(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def payload(self, event: Event, style: str) -> dict[str, Any]:
        if style == "console":
            body: dict[str, Any] = {
                "EventType": event.tag,
                "EventTime": event.event_time,
                "CorpId": event.corpid,
                "BizId": uuid.uuid5(uuid.NAMESPACE_OID, event.event_id).hex,
                "eventId": event.event_id,
                "timeStamp": str(event.event_time),
            }
            if event.user_ids is not None:
                body["userId"] = event.user_ids
            if event.dept_ids is not None:
                body["deptId"] = event.dept_ids
            return body
        body = {"EventType": event.tag, "CorpId": event.corpid}
        if event.user_ids is not None:
            body["UserId"] = event.user_ids
        if event.dept_ids is not None:
            body["DeptId"] = event.dept_ids
        if event.operator:
            body["OptStaffId"] = event.operator
        body["TimeStamp"] = str(event.event_time)
        return body

    async def _deliver(self, event: Event) -> None:
        delays = (0.0, *RETRY_DELAYS)
        for attempt, delay in enumerate(delays):
            if delay:
                await asyncio.sleep(delay * self.sim.config.time_scale)
            found = self.sim.state.find_app(event.appkey)
            if found is None:
                return
            corp, app = found
            registration = app.callback
            if registration is None or event.tag not in registration.call_back_tag:
                return  # unregistered meanwhile: DingTalk stops pushing
            ok, error = await self._attempt(corp, app, registration, event)
            self.log.append(
                {
                    "event_id": event.event_id,
                    "corpid": event.corpid,
                    "appkey": event.appkey,
                    "tag": event.tag,
                    "attempt": attempt,
                    "at": now_ms(),
                    "url": registration.url,
                    "payload": self.payload(event, app.callback_style),
                    "ok": ok,
                    "error": error,
                }
            )
            if ok:
                return
        self._park(app, event)

    def _park(self, app: App, event: Event) -> None:
        details: dict[str, Any] = {"corpid": event.corpid}
        if event.tag in DEPT_EVENTS:
            details["deptid"] = event.dept_ids or []
        else:
            details["userid"] = event.user_ids or []
        app.failed_events.append({"call_back_tag": event.tag, "event_time": event.event_time, event.tag: details})

    async def _attempt(
        self, corp: Corp, app: App, registration: CallbackRegistration, event: Event
    ) -> tuple[bool, str | None]:
        if app.callback_drop_next > 0:
            app.callback_drop_next -= 1
            return False, "dropped by the simulator"
        message = json.dumps(self.payload(event, app.callback_style), ensure_ascii=False, separators=(",", ":"))
        try:
            await self.push(corp, app, registration, message)
        except HandshakeError as exc:
            return False, f"{exc.errcode}: {exc.errmsg}"
        return True, None

    # -- one HTTP push ----------------------------------------------------------------------------------------

    async def push(self, corp: Corp, app: App, registration: CallbackRegistration, message: str) -> None:
        """POST one encrypted message and check the encrypted ``success`` answer; raises HandshakeError."""
        style = app.callback_style
        key_id = app.appkey if style == "console" else corp.corpid
        try:
            crypto = DingTalkCrypto(registration.token, registration.aes_key, key_id)
        except CallbackCryptoError as exc:
            raise HandshakeError(71010, f"回调参数不合法: {exc.message}") from None
        timestamp = str(now_ms())
        nonce = _nonce()
        encrypt = crypto.encrypt(message)
        signature_name = "msg_signature" if style == "console" else "signature"
        query = {signature_name: crypto.signature(timestamp, nonce, encrypt), "timestamp": timestamp, "nonce": nonce}
        url = URL(registration.url).update_query(query)
        deadline = self.sim.config.callback_timeout or DEADLINES.get(style, 1.5)
        try:
            async with self.session().post(
                url,
                json={"encrypt": encrypt},
                timeout=aiohttp.ClientTimeout(total=deadline),
                allow_redirects=False,
            ) as response:
                text = await response.text()
                status = response.status
        except TimeoutError:
            raise HandshakeError(71012, "url地址访问异常,错误原因为:请求超时") from None
        except aiohttp.ClientError as exc:
            raise HandshakeError(71012, f"url地址访问异常,错误原因为:{type(exc).__name__}") from None
        if status != 200:
            raise HandshakeError(71012, f"url地址访问异常,错误原因为:http statusCode is:{status}")
        check_answer(crypto, text)


def check_answer(crypto: DingTalkCrypto, text: str) -> None:
    """The receiver's answer must be JSON carrying a correctly signed encryption of ``success``."""
    try:
        answer = json.loads(text)
    except ValueError:
        raise HandshakeError(71009, "返回文本非success: 返回内容不是JSON") from None
    if not isinstance(answer, dict):
        raise HandshakeError(71009, "返回文本非success: 返回内容不是JSON对象")
    signature = answer.get("msg_signature") or answer.get("signature")
    timestamp = answer.get("timeStamp") or answer.get("timestamp")
    nonce = answer.get("nonce")
    encrypt = answer.get("encrypt")
    if not all(isinstance(v, str | int) and str(v) for v in (signature, timestamp, nonce, encrypt)):
        raise HandshakeError(71009, "返回文本非success: HTTP请求结果校验返回字段值失败")
    try:
        crypto.verify(str(signature), str(timestamp), str(nonce), str(encrypt))
        plain = crypto.decrypt(str(encrypt))
    except CallbackCryptoError as exc:
        raise HandshakeError(71009, f"返回文本非success: {exc.message}") from None
    if plain != "success":
        raise HandshakeError(71009, "返回文本非success")
