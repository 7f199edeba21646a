"""Parsing EKP element JSON into the typed model."""

from __future__ import annotations

import msgspec
import pytest

from app.ekp.models import ELEMENTS, EkpBaseInfo, EkpElement, ElementType, decode, shift_timestamp

SAMPLE_PERSON = {
    "id": "157fa6b08e765dff8ac2b0347ae979dd",
    "lunid": "157fa6b08e765dff8ac2b0347ae979dd",
    "name": "张三",
    "type": "person",
    "parent": "157fa6912507800e85994ec44f496bbc",
    "hierarchyId": "x15774950da35e3205d3e0974e2fbd7e5x157fa6912507800e85994ec44f496bbc"
    "x157fa6b08e765dff8ac2b0347ae979ddx",
    "loginName": "zhangsan",
    "mobileNo": "13800000000",
    "isAvailable": True,
    "isBusiness": True,
    "isExternal": False,
    "alterTime": "2017-03-08 09:33:17.000",
    "langProps": {"fdName": "张三"},
    "posts": [],
    "order": "00210",
    "password": "e10adc3949ba59abbe56e057f20f883e",
    "customProps": '{"level":"P7"}',
    "staffingLevelValue": "3",
    "someFutureKey": {"x": 1},
}


def test_person_sample_parses_and_drops_the_password_hash() -> None:
    element = msgspec.convert(SAMPLE_PERSON, EkpElement)
    assert element.type is ElementType.PERSON
    assert (element.login_name, element.mobile_no, element.order) == ("zhangsan", "13800000000", 210)
    assert element.dept_ids == ["157fa6912507800e85994ec44f496bbc"]
    assert element.custom_props == {"level": "P7"}
    assert element.staffing_level_value == 3
    assert "password" not in msgspec.structs.asdict(element) and "e10adc" not in repr(element)
    assert element.key == (SAMPLE_PERSON["id"], "2017-03-08 09:33:17.000")


def test_null_flags_and_missing_lists_get_ekp_defaults() -> None:
    element = msgspec.convert(
        {"id": "a1", "type": "dept", "alterTime": "2024-01-01 00:00:00.001", "isAvailable": None, "isBusiness": None},
        EkpElement,
    )
    assert element.is_available is True and element.is_business is True
    assert element.posts == [] and element.persons == [] and element.order is None


def test_disabled_element() -> None:
    element = msgspec.convert(
        {"id": "a1", "type": "post", "alterTime": "2024-01-01 00:00:00", "isAvailable": False, "persons": ["p1"]},
        EkpElement,
    )
    assert element.is_available is False and element.persons == ["p1"]
    assert element.alter_time == "2024-01-01 00:00:00.000"  # completed to the canonical form


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "dept", "alterTime": "2024-01-01 00:00:00.000"},  # no id
        {"id": "a", "type": "role", "alterTime": "2024-01-01 00:00:00.000"},  # unknown type
        {"id": "a", "type": "dept", "alterTime": "yesterday"},
        {"id": "a", "type": "dept"},  # no alterTime
    ],
)
def test_malformed_elements_are_rejected(broken: dict) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(broken, EkpElement)
    with pytest.raises(msgspec.ValidationError):  # the same on the wire (REST's double-encoded message)
        decode(ELEMENTS, msgspec.json.encode([broken]).decode())


def test_base_info_and_timestamp_shift() -> None:
    info = msgspec.convert({"id": "x", "lunid": "x", "name": "部门", "type": "dept", "order": "7"}, EkpBaseInfo)
    assert info.order == 7 and info.no is None
    assert shift_timestamp("2024-03-01 00:00:30.250", -60) == "2024-02-29 23:59:30.250"
