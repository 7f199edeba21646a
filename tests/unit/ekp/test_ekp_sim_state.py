"""The simulator's query semantics match EKP's registered implementation (reference 1.6)."""

from __future__ import annotations

from collections import Counter

from app.ekp.models import ElementType
from app.ekp.simulator import export
from app.ekp.simulator.clock import ms_to_str, str_to_ms
from app.ekp.simulator.generator import generate
from app.ekp.simulator.state import OrgState, SimElement

T0 = str_to_ms("2024-05-01 08:00:00.000")


def _state(stamps: list[int]) -> OrgState:
    state = OrgState()
    state.load(
        SimElement(id=f"p{i:03d}", type=ElementType.PERSON, name=f"人{i}", alter_ms=T0 + ms, login_name=f"u{i}")
        for i, ms in enumerate(stamps)
    )
    return state


def test_strict_greater_and_continuation_past_count() -> None:
    state = _state([0, 1, 1, 1, 1, 2, 3])
    first = state.updated([ElementType.PERSON], None, 2, True)
    # count=2 reached on p001, but p002..p004 share its millisecond, so they come too.
    assert [e.id for e in first.items] == ["p000", "p001", "p002", "p003", "p004"]
    assert first.timestamp_ms == T0 + 1
    second = state.updated([ElementType.PERSON], first.timestamp_ms, 2, True)
    assert [e.id for e in second.items] == ["p005", "p006"]
    empty = state.updated([ElementType.PERSON], T0 + 3, 2, True)
    assert empty.items == [] and empty.timestamp_ms == T0 + 3


def test_export_result_shape_and_failures() -> None:
    state = _state([0, 5])
    result = export.run(state, "getUpdatedElements", {"returnOrgType": '[{"type":"PERSON"}]', "count": 1})
    assert result["returnState"] == 2 and result["count"] == 1 and result["timeStamp"] == ms_to_str(T0)
    row = result["message"][0]
    assert row["alterTime"] == "2024-05-01 08:00:00.000" and row["isAvailable"] is True and row["lunid"] == row["id"]
    begin = "2024-05-01 09:00:00.000"
    empty = export.run(state, "getUpdatedElements", {"count": 5, "beginTimeStamp": begin})
    assert empty["message"] == [] and empty["timeStamp"] == begin  # an empty page echoes the request
    assert export.run(state, "getUpdatedElements", {"count": 0})["returnState"] == 1
    assert (
        export.run(state, "getUpdatedElements", {"count": 3, "returnOrgType": '[{"type":"role"}]'})["returnState"] == 1
    )
    assert export.run(state, "getElementsBaseInfo", {"returnType": '[{"type":"mobile"}]'})["returnState"] == 1


def test_business_filter_and_disabled_rows() -> None:
    state = _state([0, 1, 2])
    state.update("p000", {"is_business": False})
    state.set_available("p001", False)
    plain = export.run(state, "getUpdatedElements", {"count": 10})
    assert [(r["id"], r["isAvailable"]) for r in plain["message"]] == [("p002", True), ("p001", False)]
    v2 = export.run(state, "getUpdatedElementsV2", {"count": 10, "isBusiness": None})
    assert {r["id"] for r in v2["message"]} == {"p000", "p001", "p002"}
    base = export.run(state, "getElementsBaseInfo", {})
    assert {r["id"] for r in base["message"]} == {"p001", "p002"}
    state.hard_delete("p002")
    assert {r["id"] for r in export.run(state, "getElementsBaseInfo", {})["message"]} == {"p001"}


def test_clock_round_trip_is_exact() -> None:
    for value in ("2024-01-02 09:00:00.000", "1999-12-31 23:59:59.999", "2030-06-15 12:34:56.789"):
        assert ms_to_str(str_to_ms(value)) == value


def test_generated_organisation_is_realistic_and_deterministic() -> None:
    data = generate(depts=200, persons=2000, seed=42)
    assert [e.id for e in data] == [e.id for e in generate(depts=200, persons=2000, seed=42)]
    by_id = {e.id: e for e in data}
    kinds = Counter(e.type for e in data)
    assert kinds[ElementType.ORG] == 1 and kinds[ElementType.DEPT] == 200 and kinds[ElementType.PERSON] == 2000
    assert kinds[ElementType.POST] > 0 and kinds[ElementType.GROUP] > 0

    def depth(element: SimElement) -> int:
        level = 0
        while element.parent:
            element, level = by_id[element.parent], level + 1
        return level

    depths = {depth(e) for e in data if e.type == ElementType.DEPT}
    assert max(depths) >= 4 and max(depths) <= 6
    persons = [e for e in data if e.type == ElementType.PERSON]
    assert len({p.mobile_no for p in persons}) == len(persons)
    assert len({p.login_name for p in persons}) == len(persons)
    assert all(p.login_name.isascii() and p.login_name.isalnum() for p in persons)
    assert all("\u4e00" <= p.name[0] <= "\u9fff" for p in persons)
    # Bulk imports share milliseconds: paging must cope with that.
    assert max(Counter(e.alter_ms for e in data).values()) > 1
    for dept in (e for e in data if e.type == ElementType.DEPT):
        siblings = [d.name for d in data if d.type == ElementType.DEPT and d.parent == dept.parent]
        assert len(siblings) == len(set(siblings))
