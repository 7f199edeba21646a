"""Notification retries, failure and replay against a real receiver; feed paging and removals."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from app.core import change_tracking
from app.models.access import AccessSystem, Notification
from app.models.contacts import Person
from app.services import access_notify, access_systems, mapping_feed
from app.services.access_systems import SystemInput
from tests import factories
from tests.integration.access_support import org_admin, receiver, seed_contacts

PASSWORD = "test12345678"


async def _system(org, notify_url: str) -> int:
    system_id = await access_systems.save_system(
        await org_admin(org),
        None,
        SystemInput(name="EKP", identifier="ekp-1", auth_account="ekp-user", auth_password=PASSWORD),
    )
    await AccessSystem.filter(id=system_id).update(notify_url=notify_url)
    return system_id


async def test_failing_receiver_is_retried_with_backoff_shown_and_replayed(orm) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    admin = await org_admin(org)
    async with receiver() as rec, aiohttp.ClientSession() as http:
        rec.status = 500
        system_id = await _system(org, rec.url)
        start = datetime.now(UTC)
        await change_tracking.contacts_changed(org.id, "contacts.person.update", {"person_ids": [1]})
        await change_tracking.contacts_changed(org.id, "contacts.dept.create", {"dept_ids": [2]})
        notes = await Notification.filter(system_id=system_id)
        assert len(notes) == 1  # coalesced: one pending "contacts.changed" per system
        assert notes[0].event_type == "contacts.changed"
        assert notes[0].payload == {"events": ["contacts.person.update", "contacts.dept.create"], "changes": 2}

        # Not before the feed has settled, then the first attempt.
        assert await access_notify.deliver_due(http, now=start) == (0, 0)
        assert await access_notify.deliver_due(http, now=start + timedelta(seconds=3)) == (0, 1)
        assert len(rec.received) == 1
        note = await Notification.get(system_id=system_id)
        assert note.attempts == 1 and "HTTP 500" in note.last_error and note.failed_at is None
        wait = (note.next_attempt_at - note.last_attempt_at).total_seconds()
        assert wait == pytest.approx(access_notify.BACKOFF[0], abs=1)

        rows = await access_systems.list_systems(admin)
        assert rows[0].pending == 1 and rows[0].failed == 0 and "HTTP 500" in rows[0].last_error

        # Retries until the schedule runs out, each one later than the last.
        later = start
        for _ in range(access_notify.MAX_ATTEMPTS - 1):
            later += timedelta(hours=2)
            await access_notify.deliver_due(http, now=later)
        note = await Notification.get(system_id=system_id)
        assert note.attempts == access_notify.MAX_ATTEMPTS and note.failed_at is not None
        assert len(rec.received) == access_notify.MAX_ATTEMPTS
        assert await access_notify.deliver_due(http, now=later + timedelta(days=1)) == (0, 0)  # given up
        rows = await access_systems.list_systems(admin)
        assert rows[0].failed == 1 and rows[0].pending == 0 and "HTTP 500" in rows[0].last_error

        # The receiver is back; 重新发送 delivers at once.
        rec.status = 200
        assert await access_systems.replay_notifications(admin, system_id) == 1
        assert await access_notify.deliver_due(http) == (1, 0)
        body = rec.received[-1]
        assert access_notify.verify(body.body, PASSWORD, body.headers["X-LanDing-Signature"])
        message = json.loads(body.body)
        assert message["eventType"] == "contacts.changed" and message["changes"] == 2
        rows = await access_systems.list_systems(admin)
        assert (rows[0].pending, rows[0].failed, rows[0].last_error) == (0, 0, "")
        assert rows[0].last_delivered_at is not None


async def test_unreachable_receiver_records_a_connection_error(orm) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    system_id = await _system(org, "http://127.0.0.1:9/notify")  # discard port: nothing listens
    await access_systems.org_config_changed(org.id)
    async with aiohttp.ClientSession() as http:
        assert await access_notify.deliver_due(http, now=datetime.now(UTC) + timedelta(seconds=5)) == (0, 1)
    note = await Notification.get(system_id=system_id)
    assert note.event_type == "org.changed" and "连接失败" in note.last_error


async def test_systems_without_notify_url_get_no_notifications(orm) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    await _system(org, "")
    await change_tracking.contacts_changed(org.id)
    assert await Notification.all().count() == 0


async def test_feed_pages_end_between_milliseconds(orm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping_feed, "SETTLE_MS", 0)
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    data = await seed_contacts(org)
    t = data["t"] + 10
    for i in range(5):  # a bulk change: five people stamped in the same millisecond
        await Person.create(
            org=org,
            name=f"P{i}",
            main_dept=data["rd"],
            login_name=f"p{i}",
            source_id=f"ekp-{i}",
            ding_userid=f"u{i}",
            feed_time=t,
        )
    await Person.create(
        org=org,
        name="后来",
        main_dept=data["rd"],
        login_name="later",
        source_id="ekp-later",
        ding_userid="u-later",
        feed_time=t + 1,
    )
    everything = await mapping_feed.changes(org.id, "person", 0)
    assert [i["dingId"] for i in everything] == ["u-zhang", "u-li", "u0", "u1", "u2", "u3", "u4", "u-later"]

    # Page by time with a limit of 3, the way a careful caller would: nothing is lost or repeated.
    seen: list[str] = []
    cursor = 0
    pages = 0
    while True:
        page = await mapping_feed.changes(org.id, "person", cursor, limit=3)
        if not page:
            break
        pages += 1
        assert len({i["time"] for i in page if i["time"] == page[-1]["time"]}) == 1
        seen += [i["dingId"] for i in page]
        cursor = page[-1]["time"]
    assert seen == [i["dingId"] for i in everything]
    assert pages == 2  # [zhang, li, u0 u1 u2 u3 u4] then [later]: the first page ends after the whole millisecond
    first = await mapping_feed.changes(org.id, "person", 0, limit=3)
    assert [i["dingId"] for i in first] == ["u-zhang", "u-li", "u0", "u1", "u2", "u3", "u4"]


async def test_removed_person_stays_in_the_feed_as_deleted(orm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping_feed, "SETTLE_MS", 0)
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    data = await seed_contacts(org)
    cursor = data["t"] + 100
    li = data["li"]
    await mapping_feed.tombstone_person(li, at_ms=cursor + 5)
    await li.delete()
    rd = data["rd"]
    rd.is_deleted = True
    change_tracking.touch_feed(rd, cursor + 6)
    await rd.save()
    people = await mapping_feed.changes(org.id, "person", cursor)
    assert people == [
        {
            "dingId": "u-li",
            "businessId": "13800000002",
            "dingIsDel": True,
            "time": cursor + 5,
            "mobileNo": "13800000002",
        }
    ]
    depts = await mapping_feed.changes(org.id, "dept", cursor)
    assert depts == [{"dingId": "100", "businessId": "ekp-d-rd", "dingIsDel": True, "time": cursor + 6}]


async def test_recent_changes_wait_for_the_settle_window(orm) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    data = await seed_contacts(org)
    zhang = data["zhang"]
    change_tracking.touch_feed(zhang)
    await zhang.save()
    assert await mapping_feed.changes(org.id, "person", data["t"] + 3) == []  # too fresh: may not be committed
    assert [i["dingId"] for i in await mapping_feed.changes(org.id, "person", 0)] == ["u-li"]


async def test_unannounced_mapping_changes_are_notified_once(orm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping_feed, "SETTLE_MS", 0)
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    data = await seed_contacts(org)
    system_id = await _system(org, "http://ekp.test/notify")
    watch = access_notify.FeedWatch()
    assert await watch.scan() == 0  # the first scan only sets the watermark

    # The push got a DingTalk id for a person and stamped the feed, without announcing it.
    wang = data["wang"]
    wang.ding_userid = "u-wang"
    change_tracking.touch_feed(wang, watch.watermark + 1)
    await wang.save()
    await asyncio.sleep(0.01)
    assert await watch.scan() == 1
    note = await Notification.get(system_id=system_id)
    assert note.event_type == "contacts.changed" and note.payload["events"] == ["feed"]

    # An announced change is covered by its own notification: the watch adds nothing.
    await Notification.filter(id=note.id).update(delivered_at=datetime.now(UTC))
    zhang = data["zhang"]
    change_tracking.touch_feed(zhang)
    await zhang.save()
    await change_tracking.contacts_changed(org.id, "contacts.person.update", {})
    await asyncio.sleep(0.01)
    assert await watch.scan() == 0
    assert await Notification.filter(system_id=system_id).count() == 2
