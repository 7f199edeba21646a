"""Parsing decrypted callback payloads into typed events."""

from __future__ import annotations

import json

import pytest

from app.dingtalk.events import EventKind, EventParseError, parse_event, parse_failed_item


def test_legacy_user_event() -> None:
    event = parse_event(
        '{"EventType":"user_add_org","CorpId":"dingc7c5","UserId":["184919295227658120"],'
        '"OptStaffId":"manager164","TimeStamp":"1640921671286"}'
    )
    assert event.kind is EventKind.USER_ADD_ORG
    assert event.kind.is_user_event and not event.kind.is_dept_event
    assert event.corp_id == "dingc7c5"
    assert event.user_ids == ("184919295227658120",)
    assert event.dept_ids == ()
    assert event.timestamp == 1640921671286
    assert event.operator_userid == "manager164"
    assert event.raw["EventType"] == "user_add_org"


def test_legacy_dept_event_with_numeric_timestamp() -> None:
    event = parse_event(
        {"EventType": "org_dept_create", "CorpId": "c", "DeptId": [581208264], "TimeStamp": 1640669222083}
    )
    assert event.kind is EventKind.ORG_DEPT_CREATE and event.kind.is_dept_event
    assert event.dept_ids == (581208264,)
    assert event.timestamp == 1640669222083


def test_console_camel_case_event() -> None:
    payload = {
        "EventType": "user_modify_org",
        "EventTime": 1663143335567,
        "CorpId": "ding1",
        "BizId": "biz",
        "eventId": "c7c7abc",
        "timeStamp": "1685501863357",
        "diffInfo": {"prev": {}, "curr": {}, "userid": "user123456"},
        "userId": ["user123456"],
    }
    event = parse_event(json.dumps(payload).encode())
    assert event.kind is EventKind.USER_MODIFY_ORG
    assert event.user_ids == ("user123456",)
    assert event.timestamp == 1685501863357  # timeStamp wins over EventTime
    assert event.event_id == "c7c7abc"
    assert event.biz_id == "biz"
    assert event.dedup_key == "event:c7c7abc"


def test_camel_case_dept_event() -> None:
    event = parse_event({"EventType": "org_dept_remove", "CorpId": "c", "eventId": "e1", "deptId": [432825033]})
    assert event.kind is EventKind.ORG_DEPT_REMOVE
    assert event.dept_ids == (432825033,)


def test_user_ids_only_in_diff_info() -> None:
    event = parse_event({"EventType": "user_modify_org", "diffInfo": {"userid": "u9"}})
    assert event.user_ids == ("u9",)


def test_label_user_change_both_spellings() -> None:
    legacy = parse_event(
        {
            "EventType": "label_user_change",
            "CorpId": "c",
            "UserIdList": ["u1"],
            "LabelIdList": [1299380990],
            "action": "add",
            "TimeStamp": "1",
        }
    )
    camel = parse_event(
        {"EventType": "label_user_change", "userIdList": ["u1"], "labelIdList": [1881], "action": "remove"}
    )
    assert legacy.kind is EventKind.LABEL_USER_CHANGE and legacy.user_ids == ("u1",)
    assert legacy.label_ids == (1299380990,) and legacy.action == "add"
    assert camel.user_ids == ("u1",) and camel.label_ids == (1881,) and camel.action == "remove"


def test_check_url_handshake() -> None:
    event = parse_event('{"EventType":"check_url"}')
    assert event.kind is EventKind.CHECK_URL and event.kind.is_handshake
    assert event.corp_id is None and event.timestamp is None


@pytest.mark.parametrize(
    "kind",
    ["user_leave_org", "user_active_org", "org_admin_add", "org_admin_remove", "org_dept_modify", "org_change"],
)
def test_all_contact_kinds(kind: str) -> None:
    assert parse_event({"EventType": kind}).kind.value == kind


def test_unknown_event_type_is_kept_not_rejected() -> None:
    event = parse_event({"EventType": "bpms_instance_change", "CorpId": "c", "processInstanceId": "p"})
    assert event.kind is EventKind.UNKNOWN
    assert event.event_type == "bpms_instance_change"
    assert event.raw["processInstanceId"] == "p"


@pytest.mark.parametrize("text", ["{not json", "", "[1,2]", '"text"', b"\xff\xfe"])
def test_malformed_payloads_raise_a_typed_error(text: str | bytes) -> None:
    with pytest.raises(EventParseError):
        parse_event(text)


def test_missing_event_type_raises() -> None:
    with pytest.raises(EventParseError):
        parse_event({"CorpId": "c"})


def test_dedup_key_is_stable_across_retried_deliveries() -> None:
    first = parse_event('{"EventType":"user_add_org","CorpId":"c","UserId":["b","a"],"TimeStamp":"1640921671286"}')
    retry = parse_event({"TimeStamp": 1640921671286, "UserId": ["a", "b"], "CorpId": "c", "EventType": "user_add_org"})
    other = parse_event('{"EventType":"user_add_org","CorpId":"c","UserId":["a","b"],"TimeStamp":"1640921671999"}')
    assert first.dedup_key == retry.dedup_key
    assert first.dedup_key != other.dedup_key
    assert first.dedup_key.startswith("sha256:")


def test_seconds_timestamps_are_normalised_to_milliseconds() -> None:
    assert parse_event({"EventType": "org_change", "TimeStamp": "1783610513"}).timestamp == 1783610513000


def test_failed_item_current_shape() -> None:
    event = parse_failed_item(
        {
            "call_back_tag": "user_add_org",
            "event_time": 1606126433000,
            "user_add_org": {"userid": ["zhangsan"], "corpid": "ding241f"},
        }
    )
    assert event.kind is EventKind.USER_ADD_ORG
    assert event.user_ids == ("zhangsan",)
    assert event.corp_id == "ding241f"
    assert event.timestamp == 1606126433000


def test_failed_item_flat_shape_with_dept_ids() -> None:
    event = parse_failed_item(
        {
            "call_back_tag": "org_dept_create",
            "event_time": 1606126433000,
            "corpid": "c",
            "deptid": [5, 6],
            "callbackData": '{"EventType":"org_dept_create","DeptId":[5,6]}',
        }
    )
    assert event.kind is EventKind.ORG_DEPT_CREATE
    assert event.dept_ids == (5, 6)
    assert event.corp_id == "c"


def test_failed_item_of_other_type_is_unknown_not_lost() -> None:
    item = {"call_back_tag": "bpms_instance_change", "event_time": 1, "bpms_instance_change": {"bpmsCallBackData": {}}}
    event = parse_failed_item(item)
    assert event.kind is EventKind.UNKNOWN
    assert event.raw == item
    assert parse_failed_item({}).kind is EventKind.UNKNOWN
