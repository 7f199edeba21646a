"""A business system calls the todo service as it calls EKP's; DingTalk (the simulator) shows what people get."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from app.connector.models import PersonMapping, PushJob
from app.connector.services import options as options_service
from app.connector.services import push
from tests.integration.connector.support import basic, wait_until


def todo(model_id: str, *logins: str, **extra) -> dict:
    body = {
        "appName": "OA",
        "modelName": "com.landray.kmss.km.review.model.KmReviewMain",
        "modelId": model_id,
        "subject": f"请审批：差旅报销 {model_id}",
        "link": f"http://ekp.test/km/review/{model_id}",
        "mobileLink": f"http://ekp.test/m/km/review/{model_id}",
        "type": 1,
        "createTime": "2026-12-01 09:30:00",
        "targets": json.dumps([{"LoginName": name} for name in logins]),
    }
    body.update(extra)
    return body


async def people(world, count: int = 3) -> list[PersonMapping]:
    rows = await world.run(lambda: PersonMapping.exclude(login_name="").order_by("id").limit(count))
    assert len(rows) == count
    return rows


async def tasks_of(world, union_id: str) -> list[dict]:
    return [t for t in await world.sim("GET", f"/_sim/corps/{world.env.org.corpid}/todos?unionid={union_id}")]


async def messages_of(world, userid: str) -> list[dict]:
    return await world.sim("GET", f"/_sim/corps/{world.env.org.corpid}/messages?userid={userid}")


async def test_send_done_for_one_then_delete(world) -> None:
    a, b, _ = await people(world)
    status, answer = await world.todo("sendTodo", todo("doc-1", a.login_name, b.login_name, level=1))
    assert (status, answer["returnState"]) == (200, 2), answer

    async def both_have_one() -> bool:
        return [len(await tasks_of(world, p.union_id)) for p in (a, b)] == [1, 1]

    await wait_until(both_have_one, "one v1.0 todo for each recipient")
    task_a = (await tasks_of(world, a.union_id))[0]
    assert task_a["subject"] == "【紧急】请审批：差旅报销 doc-1"
    assert task_a["detailUrl"] == {
        "appUrl": "http://ekp.test/m/km/review/doc-1",
        "pcUrl": "http://ekp.test/km/review/doc-1",
    }

    async def notified() -> bool:
        return [len(await messages_of(world, p.ding_userid)) for p in (a, b)] == [1, 1]

    await wait_until(notified, "one work notification to both")
    sent = (await messages_of(world, a.ding_userid))[0]
    assert sent["task_id"] == (await messages_of(world, b.ding_userid))[0]["task_id"], "one notification, not two"
    assert sent["msg"]["oa"]["status_bar"]["status_value"] == "待处理"

    done = {**todo("doc-1", a.login_name), "optType": 2}
    status, answer = await world.todo("setTodoDone", done)
    assert answer["returnState"] == 2, answer

    async def a_done() -> bool:
        return (await tasks_of(world, a.union_id))[0]["done"] is True

    await wait_until(a_done, "a's todo to be done")
    assert (await tasks_of(world, b.union_id))[0]["done"] is False, "only the listed target is done"
    await world.run(push.drain(world.rt))
    bar = (await messages_of(world, a.ding_userid))[0]["msg"]["oa"]["status_bar"]["status_value"]
    assert bar == "待处理", "the shared notification stays open while b has not acted"

    status, answer = await world.todo("getTodo", {"targets": json.dumps({"LoginName": b.login_name}), "type": 0})
    listed = json.loads(answer["message"])
    assert listed["count"] == 1 and listed["docs"][0]["modelId"] == "doc-1"
    status, answer = await world.todo(
        "getTodoCount", {"target": json.dumps({"LoginName": a.login_name}), "types": [{"type": 1}]}
    )
    assert json.loads(answer["message"]) == [{"1": 0}]

    status, answer = await world.todo("deleteTodo", {**todo("doc-1"), "optType": 1, "targets": ""})
    assert answer["returnState"] == 2, answer

    async def b_removed() -> bool:
        return (await tasks_of(world, b.union_id))[0].get("deleted") is True

    await wait_until(b_removed, "b's todo to be removed")

    async def bar_done() -> bool:
        return (await messages_of(world, b.ding_userid))[0]["msg"]["oa"]["status_bar"]["status_value"] != "待处理"

    await wait_until(bar_done, "the notification's status bar to leave 待处理")
    assert await world.run(push.error_count()) == 0


async def test_unmapped_target_is_an_error_row_and_bad_calls_are_refused(world) -> None:
    (a,) = await people(world, 1)
    status, answer = await world.todo("sendTodo", todo("doc-2", a.login_name, "no.such.person"))
    assert answer["returnState"] == 2

    async def error_row():
        rows, _ = await world.run(push.error_page("", 0, 10))
        return rows

    rows = await wait_until(error_row, "an 异常信息 row")
    assert "no.such.person" in rows[0].last_error and "人员映射表" in rows[0].last_error
    await wait_until(lambda: tasks_of(world, a.union_id), "the mapped person still gets the todo")

    # Retried on schedule: still unmapped ten minutes later, the attempt is counted again.
    later = datetime.now(UTC) + timedelta(minutes=11)
    await world.run(push.drain(world.rt, now=later))
    job = await world.run(lambda: PushJob.get(id=rows[0].id))
    assert job.attempts == 2 and job.state == "error"
    await world.run(push.ignore(job.id))
    assert await world.run(push.error_count()) == 0

    status, answer = await world.todo("sendTodo", {**todo("doc-3", a.login_name), "subject": ""})
    assert (status, answer["returnState"]) == (200, 1) and "subject" in answer["message"]
    status, answer = await world.todo("sendTodo", {**todo("doc-3", a.login_name), "targets": "{bad"})
    assert answer["returnState"] == 1 and "targets" in answer["message"]
    status, answer = await world.todo("setTodoDone", {**todo("never-sent"), "optType": 1})
    assert answer["returnState"] == 1 and "待办不存在" in answer["message"]
    status, answer = await world.todo("sendTodo", todo("doc-3", a.login_name), auth=basic("ekp-todo", "wrong"))
    assert status == 401 and answer["returnState"] == 1
    assert len(await tasks_of(world, a.union_id)) == 1, "refused calls push nothing"


async def test_throttled_dingtalk_loses_nothing(world) -> None:
    recipients = await people(world, 3)
    await world.sim("POST", "/_sim/config", {"qps": 2})
    for n in range(8):
        person = recipients[n % 3]
        assert (await world.todo("sendTodo", todo(f"bulk-{n}", person.login_name)))[1]["returnState"] == 2

    async def all_there() -> bool:
        counts = [len(await tasks_of(world, p.union_id)) for p in recipients]
        return sum(counts) == 8

    await wait_until(all_there, "all eight todos despite throttling", within=90)
    await world.sim("POST", "/_sim/config", {"qps": 200})
    counters = await world.sim("GET", "/_sim/counters")
    assert any(
        "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" in codes or "90018" in codes
        for codes in counters["errors"].values()
    ), "the simulator did throttle"
    assert await world.run(push.error_count()) == 0


async def test_work_record_mode_and_to_read_off_by_default(world) -> None:
    a, b, _ = await people(world)
    opts = await world.run(options_service.load())
    opts.todo_api_type = "WF"
    opts.title_color = "#FF8800"
    await world.run(options_service.save(opts, "1", rt=world.rt))
    long_subject = "很长的标题" * 12
    await world.todo("sendTodo", todo("wf-1", a.login_name, level=2, subject=long_subject))
    await world.todo("sendTodo", todo("read-1", b.login_name, type=2))

    async def record():
        return await world.sim("GET", f"/_sim/corps/{world.env.org.corpid}/workrecords?userid={a.ding_userid}")

    rows = await wait_until(record, "a work record")
    assert rows[0]["title"] == ("【急】" + long_subject)[:45] + "..."
    await wait_until(lambda: messages_of(world, a.ding_userid), "the notification")
    assert (await messages_of(world, a.ding_userid))[0]["msg"]["oa"]["head"]["bgcolor"] == "FFFF8800"
    await world.todo("setTodoDone", {**todo("wf-1"), "optType": 1, "targets": ""})

    async def record_done() -> bool:
        return (await record())[0]["status"] == 1

    await wait_until(record_done, "the work record to be done")
    await world.run(push.drain(world.rt))
    assert await messages_of(world, b.ding_userid) == [], "待阅 is not pushed while 待阅消息推送 is off"
    assert await tasks_of(world, b.union_id) == []


async def test_update_and_remove_only_some_targets(world) -> None:
    a, b, c = await people(world)
    await world.todo("sendTodo", todo("doc-9", a.login_name, b.login_name, c.login_name))

    async def all_three() -> bool:
        return [len(await tasks_of(world, p.union_id)) for p in (a, b, c)] == [1, 1, 1]

    await wait_until(all_three, "three todos")
    status, answer = await world.todo("updateTodo", {**todo("doc-9"), "subject": "改过的标题", "level": 2})
    assert answer["returnState"] == 2, answer

    async def renamed() -> bool:
        return [(await tasks_of(world, p.union_id))[0]["subject"] for p in (a, b, c)] == ["【急】改过的标题"] * 3

    await wait_until(renamed, "the new title on every open todo")
    removal = {**todo("doc-9", b.login_name), "optType": 2}
    assert (await world.todo("deleteTodo", removal))[1]["returnState"] == 2

    async def b_gone() -> bool:
        return (await tasks_of(world, b.union_id))[0].get("deleted") is True

    await wait_until(b_gone, "b's todo removed")
    assert [(await tasks_of(world, p.union_id))[0].get("deleted") for p in (a, c)] == [None, None]
    count = await world.todo(
        "getTodoCount", {"target": json.dumps({"LoginName": a.login_name}), "types": [{"type": 0}]}
    )
    assert json.loads(count[1]["message"]) == [{"0": 1}]


async def test_sent_again_after_done_gives_a_fresh_todo(world) -> None:
    (a,) = await people(world, 1)
    await world.todo("sendTodo", todo("doc-back", a.login_name))
    await wait_until(lambda: tasks_of(world, a.union_id), "the first todo")
    await world.todo("setTodoDone", {**todo("doc-back"), "optType": 1})

    async def done() -> bool:
        return (await tasks_of(world, a.union_id))[0]["done"] is True

    await wait_until(done, "the first todo done")
    await world.todo("sendTodo", todo("doc-back", a.login_name))  # the workflow came back to the same person

    async def fresh() -> bool:
        return [t["done"] for t in await tasks_of(world, a.union_id)] == [True, False]

    await wait_until(fresh, "a second, open todo")
    assert await world.run(push.error_count()) == 0
