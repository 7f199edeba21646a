"""The push queue worker: turns stored todo changes into DingTalk calls, and keeps what failed (4.4).

Jobs of one todo run one after another in the order they were queued (send before done, the notification after
the sends), different todos run concurrently; the shared client paces calls to DingTalk's rate limit. A throttled
call is tried again a few seconds later without counting as a failure. Any other failure, and a recipient that
has no mapping, leaves the job as an 异常信息 row with its error, retried on a schedule (``RETRY_MINUTES``,
doubling, at most ``MAX_ATTEMPTS`` tries) or by 重试; 忽略 closes it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime, timedelta

from app.connector import runtime
from app.connector.models import PushJob, Todo, TodoTarget
from app.connector.services import audit, interface_log, mapping, todo_render, todos
from app.connector.services import binding as binding_service
from app.connector.services import options as options_service
from app.connector.services.errors import ConnectorError
from app.dingtalk.errors import DingTalkAPIError, DingTalkError, DingTalkTransportError

log = logging.getLogger(__name__)

CONCURRENCY = 16
RETRY_MINUTES = 10
MAX_ATTEMPTS = 6
THROTTLE_DELAY = (2.0, 5.0)
ACTION_NAMES = {
    "send": "发送待办",
    "done": "待办置为已办",
    "remove": "删除待办",
    "update": "更新待办",
    "notify": "发送工作通知",
}


class PushFailure(Exception):
    """A job that cannot succeed now (e.g. no mapping); the message is shown in 异常信息."""


def _now() -> datetime:
    return datetime.now(UTC)


def _throttled(exc: BaseException) -> bool:
    if isinstance(exc, DingTalkAPIError):
        return exc.is_throttled or "flowControl" in str(exc.errcode)
    return False


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=RETRY_MINUTES * (2 ** max(0, attempts - 1)))


_cached: dict[str, tuple[float, object]] = {}
CONTEXT_SECONDS = 5.0  # also re-read after this, whatever changed it


async def _context(rt: runtime.ConnectorRuntime):
    """Binding and options for a job; read at most every CONTEXT_SECONDS (every job needs them)."""
    now = time.monotonic()
    hit = _cached.get("context")
    if hit is None or now - hit[0] > CONTEXT_SECONDS or hit[1][0] != rt.config_version:  # type: ignore[index]
        hit = (now, (rt.config_version, await binding_service.require(), await options_service.load()))
        _cached["context"] = hit
    _version, binding, opts = hit[1]  # type: ignore[misc]
    return binding, opts, rt.dingtalk


async def _resolve_target(target: TodoTarget):
    mapped = await todos.resolve(todos.Ref(target.ref_type, target.ref_value))
    if mapped is None or not mapped.ding_userid:
        raise PushFailure(f"接收人 {target.ref_type}={target.ref_value} 在人员映射表中不存在（未映射到钉钉人员）")
    if (target.ekp_id, target.login_name, target.ding_userid) != (mapped.ekp_id, mapped.login_name, mapped.ding_userid):
        target.ekp_id, target.login_name, target.ding_userid = mapped.ekp_id, mapped.login_name, mapped.ding_userid
        await target.save(update_fields=["ekp_id", "login_name", "ding_userid", "updated_at"])
    return mapped


async def _send(rt: runtime.ConnectorRuntime, job: PushJob, todo: Todo, target: TodoTarget) -> None:
    if target.state != "open":
        return
    binding, opts, client = await _context(rt)
    mapped = await _resolve_target(target)
    if todos.pushes_todo(todo, opts):
        app = binding_service.dingtalk_app(binding)
        if opts.todo_api_type == "TODO" and not target.task_id:
            union_id = await mapping.union_id_of(mapped, client)
            if not union_id:
                raise PushFailure(f"钉钉人员 {mapped.ding_userid} 没有 unionId，无法推送钉钉待办")
            body = todo_render.todo_body(todo, union_id, f"{todo.identity[:40]}-{job.id}")
            task = await interface_log.call(
                "待办", "发送待办", {"unionId": union_id, **body}, client.notify.create_todo(app, union_id, **body)
            )
            target.union_id, target.task_id = union_id, task.id
            await target.save(update_fields=["union_id", "task_id", "updated_at"])
        elif opts.todo_api_type == "WF" and not target.record_id:
            body = {
                "userid": mapped.ding_userid,
                "title": todo_render.work_record_title(todo),
                "url": todo.mobile_link or todo.link,
                "pc_url": todo.link,
                "form_items": todo_render.form_items(todo),
                "source_name": todo.app_name or "EKP",
                "pc_open_type": 2,
                "biz_id": f"{todo.identity[:24]}-{job.id}",
            }
            record_id = await interface_log.call("待办", "发送待办", body, client.notify.add_work_record(app, **body))
            target.record_id = record_id
            await target.save(update_fields=["record_id", "updated_at"])
    if todos.pushes_notice(todo, opts) and not target.notified:
        later = await PushJob.filter(todo=todo, action="notify", state="pending", id__gt=job.id).exists()
        if not later:  # a retried send (the mapping arrived later) still gets its work notification
            await PushJob.create(
                todo=todo,
                action="notify",
                method=job.method,
                subject=job.subject,
                recipient="1 人",
                next_attempt_at=_now(),
            )


async def _notify(rt: runtime.ConnectorRuntime, job: PushJob, todo: Todo) -> None:
    binding, opts, client = await _context(rt)
    pending = await TodoTarget.filter(todo=todo, state="open", notified=False)
    by_user: dict[str, list[TodoTarget]] = {}
    for target in pending:
        try:
            mapped = await _resolve_target(target)
        except PushFailure:
            continue  # the target's own send job carries the error
        by_user.setdefault(mapped.ding_userid, []).append(target)
    userids = list(by_user)
    if not userids:
        return
    agent_id = opts.message_agent_id or binding.agent_id
    if not agent_id:
        raise PushFailure("未设置钉钉消息微应用ID，无法发送工作通知")
    app = binding_service.dingtalk_app(binding, agent_id)
    msg = todo_render.notification(todo, opts.title_color)
    for start in range(0, len(userids), 100):
        chunk = userids[start : start + 100]
        task_id = await interface_log.call(
            "待办",
            "发送工作通知",
            {"agent_id": agent_id, "userid_list": ",".join(chunk), "msg": msg},
            client.notify.send_work_notification(app, msg, userid_list=chunk),
        )
        for userid in chunk:  # its status bar turns 已处理 when the last of these people is done
            for target in by_user[userid]:
                target.notified, target.notice_task_id = True, task_id
                await target.save(update_fields=["notified", "notice_task_id", "updated_at"])


async def _close(rt: runtime.ConnectorRuntime, job: PushJob, todo: Todo, target: TodoTarget) -> None:
    binding, opts, client = await _context(rt)
    app = binding_service.dingtalk_app(binding)
    if target.task_id and target.union_id:
        if job.action == "remove":
            await interface_log.call(
                "待办",
                "删除待办",
                {"unionId": target.union_id, "taskId": target.task_id},
                client.notify.delete_todo(app, target.union_id, target.task_id),
            )
        else:
            await interface_log.call(
                "待办",
                "更新待办",
                {"unionId": target.union_id, "taskId": target.task_id, "done": True},
                client.notify.update_todo(app, target.union_id, target.task_id, done=True),
            )
    if target.record_id and target.ding_userid:
        await interface_log.call(
            "待办",
            "更新待办",
            {"userid": target.ding_userid, "record_id": target.record_id},
            client.notify.update_work_record(app, target.ding_userid, target.record_id),
        )
    await PushJob.filter(target=target, action="send", state__in=("pending", "error", "failed")).update(
        state="done", last_error="待办已处理或已删除，不再推送"
    )
    notice = target.notice_task_id
    if notice and todo.type != 2 and not await TodoTarget.filter(notice_task_id=notice, state="open").exists():
        agent_id = opts.message_agent_id or binding.agent_id
        value, bg = todo_render.STATUS_DONE
        if job.action == "remove":
            value = "已删除"
        await interface_log.call(
            "待办",
            "更新通知状态栏",
            {"agent_id": agent_id, "task_id": notice, "status_value": value},
            client.notify.update_status_bar(binding_service.dingtalk_app(binding, agent_id), notice, value, bg),
        )


async def _update(rt: runtime.ConnectorRuntime, job: PushJob, todo: Todo, target: TodoTarget) -> None:
    binding, _opts, client = await _context(rt)
    if target.state != "open" or not target.task_id:
        return
    fields = {"subject": todo_render.title(todo)[:1024]}
    await interface_log.call(
        "待办",
        "更新待办",
        {"unionId": target.union_id, "taskId": target.task_id, **fields},
        client.notify.update_todo(binding_service.dingtalk_app(binding), target.union_id, target.task_id, **fields),
    )


async def run_job(rt: runtime.ConnectorRuntime, job: PushJob) -> None:
    """Claim one job, run it and record the outcome on it (a job someone else claimed is left alone)."""
    if not await PushJob.filter(id=job.id, state__in=("pending", "error")).update(state="running"):
        return
    target = await TodoTarget.get_or_none(id=job.target_id).select_related("todo") if job.target_id else None
    todo = target.todo if target is not None else await Todo.get(id=job.todo_id)
    try:
        if job.action == "notify":
            await _notify(rt, job, todo)
        elif target is None:
            raise PushFailure("待办接收人已不存在")
        elif job.action == "send":
            await _send(rt, job, todo, target)
        elif job.action in ("done", "remove"):
            await _close(rt, job, todo, target)
        elif job.action == "update":
            await _update(rt, job, todo, target)
    except (PushFailure, ConnectorError, DingTalkError) as exc:
        await _failed(job, exc)
        return
    except Exception as exc:  # a bug must not stop the queue: the row shows it
        log.exception("push job %s failed unexpectedly", job.id)
        await _failed(job, exc)
        return
    job.state, job.last_error = "done", ""
    job.attempts += 1
    await job.save(update_fields=["state", "last_error", "attempts", "updated_at"])


def _message(exc: BaseException) -> str:
    if isinstance(exc, PushFailure):
        return str(exc)
    if isinstance(exc, ConnectorError):
        return exc.message
    if isinstance(exc, DingTalkAPIError):
        return f"钉钉返回错误 {exc.errcode}：{exc.errmsg}（{exc.meaning}）"
    if isinstance(exc, DingTalkTransportError):
        return f"访问钉钉失败：{exc}"
    return f"{type(exc).__name__}: {exc}"


async def _failed(job: PushJob, exc: BaseException) -> None:
    now = _now()
    job.last_error = _message(exc)[:2000]
    if _throttled(exc):
        job.state = "pending" if job.state != "error" else "error"
        job.next_attempt_at = now + timedelta(seconds=random.uniform(*THROTTLE_DELAY))
        await job.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
        return
    job.attempts += 1
    if job.attempts >= MAX_ATTEMPTS:
        job.state = "failed"
    else:
        job.state = "error"
        job.next_attempt_at = now + retry_delay(job.attempts)
    await job.save(update_fields=["last_error", "attempts", "state", "next_attempt_at", "updated_at"])


async def due_jobs(busy: set[int], slots: int, now: datetime | None = None) -> list[PushJob]:
    """The oldest due job of each todo that is not already being worked on."""
    rows = (
        await PushJob.filter(state__in=("pending", "error"), next_attempt_at__lte=now or _now())
        .exclude(todo_id__in=list(busy) or [-1])
        .order_by("id")
        .limit(max(slots * 4, 50))
    )
    picked: list[PushJob] = []
    seen: set[int] = set()
    for job in rows:
        if job.todo_id in seen:
            continue
        seen.add(job.todo_id)
        picked.append(job)
        if len(picked) >= slots:
            break
    return picked


async def drain(rt: runtime.ConnectorRuntime, now: datetime | None = None, max_rounds: int = 10_000) -> int:
    """Run due jobs until none is due (tests and the 重试 button use this with an explicit clock)."""
    done = 0
    for _ in range(max_rounds):
        jobs = await due_jobs(set(), CONCURRENCY, now)
        if not jobs:
            return done
        await asyncio.gather(*(run_job(rt, j) for j in jobs))
        done += len(jobs)
    return done


async def worker(rt: runtime.ConnectorRuntime) -> None:
    running: dict[int, asyncio.Task] = {}
    await PushJob.filter(state="running").update(state="pending")  # claimed by a process that stopped mid-way
    while True:
        try:
            rt.push_wakeup.clear()
            for todo_id in [t for t, task in running.items() if task.done()]:
                running.pop(todo_id)
            slots = CONCURRENCY - len(running)
            if slots > 0:
                for job in await due_jobs(set(running), slots):
                    running[job.todo_id] = asyncio.create_task(run_job(rt, job), name=f"push-{job.id}")
            waiters = [asyncio.ensure_future(rt.push_wakeup.wait()), *running.values()]
            done, _ = await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            waiters[0].cancel()
        except asyncio.CancelledError:
            for task in running.values():
                task.cancel()
            raise
        except Exception:
            log.exception("push worker round failed")
            await asyncio.sleep(1.0)


async def clean_up(retention_days: int) -> int:
    """Finished and ignored jobs older than the log retention go; errors stay until handled."""
    cutoff = _now() - timedelta(days=max(1, int(retention_days)))
    return await PushJob.filter(state__in=("done", "ignored"), updated_at__lt=cutoff).delete()


# -- 钉钉集成异常信息 ------------------------------------------------------------------------------------------------

ERROR_STATES = ("error", "failed")


async def error_page(keyword: str, offset: int, limit: int) -> tuple[list[PushJob], int]:
    query = PushJob.filter(state__in=ERROR_STATES)
    if keyword:
        query = query.filter(subject__icontains=keyword)
    return await query.order_by("-id").offset(offset).limit(limit), await query.count()


async def error_count() -> int:
    return await PushJob.filter(state__in=ERROR_STATES).count()


async def retry(job_id: int, actor: int | None = None, *, wakeup: asyncio.Event) -> None:
    job = await PushJob.get_or_none(id=job_id, state__in=ERROR_STATES)
    if job is None:
        raise ConnectorError("该异常信息不存在或已处理")
    job.state, job.next_attempt_at = "pending", _now()
    await job.save(update_fields=["state", "next_attempt_at", "updated_at"])
    await audit.record(actor, "重试异常信息", {"id": job.id, "subject": job.subject, "recipient": job.recipient})
    wakeup.set()


async def ignore(job_id: int, actor: int | None = None) -> None:
    updated = await PushJob.filter(id=job_id, state__in=ERROR_STATES).update(state="ignored")
    if not updated:
        raise ConnectorError("该异常信息不存在或已处理")
    await audit.record(actor, "忽略异常信息", {"id": job_id})
