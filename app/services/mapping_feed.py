"""The contacts mapping feed that business systems (EKP's DingTalk component) pull: EKP id <-> DingTalk id.

Contract (ekp.md 5.1): ``{"errcode": 0, "datas": [{"dingId", "businessId", "dingIsDel", "time", ...}]}``, every
mapping change since the caller's cursor, ordered by ``time`` (ms). EKP stores the largest ``time`` it saw as its
next cursor, so:

- items with ``time > cursor`` are returned (cursor 0 or less means a full pull, which also returns objects never
  touched since creation, whose ``feed_time`` is 0);
- items younger than ``SETTLE_MS`` are held back until the next pull: a write transaction that stamped
  ``feed_time`` a moment ago may not have committed yet, and once a cursor has passed its millisecond the caller
  would never see it. Notifications are therefore sent no earlier than ``SETTLE_MS`` after the change;
- when a caller asks for a ``limit`` (EKP never does), the page is cut between milliseconds, never inside one, so a
  caller paging by ``time`` loses nothing.

Departments appear when they exist in DingTalk (``ding_id``) and came from EKP (``source_id``): EKP only accepts a
``businessId`` that is one of its own elements. People appear when they exist in DingTalk (``ding_userid``); one
without an EKP id falls back to EKP's own resolution by ``loginName`` (or, without one, ``mobileNo``), 5.1.
Removed departments (tombstones), disabled people and people removed for good (``FeedTombstone``) carry
``dingIsDel: true``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from app.core.change_tracking import now_ms
from app.models.access import AccessSystem, FeedTombstone
from app.models.contacts import Department, Person
from app.services.write import write

SETTLE_MS = 2000

Kind = Literal["dept", "person"]
Item = dict[str, Any]


def _dept_item(feed_time: int, ding_id: int, source_id: str, is_deleted: bool) -> Item:
    return {"dingId": str(ding_id), "businessId": source_id, "dingIsDel": bool(is_deleted), "time": int(feed_time)}


def _person_item(
    feed_time: int, ding_userid: str, source_id: str | None, login_name: str | None, mobile: str | None, deleted: bool
) -> Item | None:
    business_id = source_id or login_name or mobile
    if not business_id:
        return None  # nothing EKP could match it to
    item: Item = {"dingId": ding_userid, "businessId": business_id, "dingIsDel": bool(deleted), "time": int(feed_time)}
    # 5.1: a present loginName key is resolved by EKP; mobileNo is only read when loginName is absent.
    if login_name:
        item["loginName"] = login_name
    elif mobile:
        item["mobileNo"] = mobile
    return item


def _time_filter(since_ms: int, upto_ms: int) -> dict[str, int]:
    window = {"feed_time__lte": upto_ms}
    if since_ms > 0:
        window["feed_time__gt"] = since_ms
    return window


async def _rows(org_id: int, kind: Kind, window: dict[str, int], limit: int | None) -> tuple[list[Item], int | None]:
    """Items of one kind in a time window, ordered by time.

    With ``limit`` each source query stops after ``limit`` rows; the second value is then the earliest last-row
    time among the sources that were cut (None when none was): everything up to it is complete.
    """
    items: list[Item] = []
    cut: int | None = None

    def note_cut(rows: list[tuple]) -> None:
        nonlocal cut
        if limit and len(rows) >= limit:
            cut = rows[-1][0] if cut is None else min(cut, rows[-1][0])

    if kind == "dept":
        query = (
            Department.filter(org_id=org_id, ding_id__not_isnull=True, source_id__not_isnull=True, **window)
            .exclude(source_id="")
            .order_by("feed_time", "id")
        )
        rows = await (query.limit(limit) if limit else query).values_list(
            "feed_time", "ding_id", "source_id", "is_deleted"
        )
        note_cut(rows)
        items.extend(_dept_item(*row) for row in rows)
    else:
        query = (
            Person.filter(org_id=org_id, ding_userid__not_isnull=True, **window)
            .exclude(ding_userid="")
            .order_by("feed_time", "id")
        )
        rows = await (query.limit(limit) if limit else query).values_list(
            "feed_time", "ding_userid", "source_id", "login_name", "mobile", "is_active"
        )
        note_cut(rows)
        for feed_time, ding_userid, source_id, login_name, mobile, active in rows:
            item = _person_item(feed_time, ding_userid, source_id, login_name, mobile, not active)
            if item:
                items.append(item)
    stones = FeedTombstone.filter(org_id=org_id, kind=kind, **window).order_by("feed_time", "id")
    rows = await (stones.limit(limit) if limit else stones).values_list(
        "feed_time", "ding_id", "business_id", "login_name", "mobile"
    )
    note_cut(rows)
    for feed_time, ding_id, business_id, login_name, mobile in rows:
        if kind == "dept":
            items.append({"dingId": ding_id, "businessId": business_id, "dingIsDel": True, "time": int(feed_time)})
        else:
            item = _person_item(feed_time, ding_id, business_id, login_name, mobile, True)
            if item:
                items.append(item)
    items.sort(key=lambda i: i["time"])  # stable: keeps id order inside one millisecond
    return items, cut


async def changes(org_id: int, kind: Kind, since_ms: int, *, limit: int | None = None) -> list[Item]:
    """Every settled mapping change of ``kind`` after ``since_ms``, ordered by ``time``.

    With ``limit`` the answer is a page of about ``limit`` items (possibly more) that ends at a millisecond
    boundary: every item up to its last ``time`` is included, so the caller's next cursor loses nothing.
    """
    window = _time_filter(since_ms, now_ms() - SETTLE_MS)
    if not limit or limit <= 0:
        return (await _rows(org_id, kind, window, None))[0]
    items, cut = await _rows(org_id, kind, window, limit)
    if cut is None:
        return items  # no source was cut: this is everything
    return (await _rows(org_id, kind, {**window, "feed_time__lte": cut}, None))[0]


async def record_pull(system_id: int) -> None:
    async with write(None):  # the feed API's bookkeeping for a system that authenticated
        await AccessSystem.filter(id=system_id).update(last_pull_at=datetime.now(UTC))


async def tombstone_person(person: Person, at_ms: int | None = None) -> None:
    """Call before deleting a person row for good: the feed keeps reporting the removal (``dingIsDel: true``).

    Disabling a person (``is_active=False``) needs no tombstone; the person row itself carries the state.
    """
    if not person.ding_userid:
        return
    business_id = person.source_id or person.login_name or person.mobile
    if not business_id:
        return
    async with write(None):  # inside the deleting write when there is one
        await FeedTombstone.create(
            org_id=person.org_id,
            kind="person",
            ding_id=person.ding_userid,
            business_id=business_id,
            login_name=person.login_name,
            mobile=person.mobile,
            feed_time=at_ms or now_ms(),
        )
