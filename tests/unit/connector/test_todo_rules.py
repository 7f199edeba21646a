"""EKP's todo rules as the connector applies them: targets, title prefixes and truncation, colours."""

from __future__ import annotations

import pytest

from app.connector.models import Todo
from app.connector.services import todo_render, todos
from app.connector.services.errors import ConnectorError
from app.connector.services.options import normalise_colour


def make(subject: str = "请审批", *, level: int = 3, type_: int = 1) -> Todo:
    return Todo(subject=subject, level=level, type=type_, link="http://x/1", create_time="2026-12-01 09:00:00")


@pytest.mark.parametrize(
    ("level", "type_", "title"),
    [
        (1, 1, "【紧急】请审批"),
        (2, 1, "【急】请审批"),
        (3, 1, "请审批"),
        (3, 3, "【暂挂】请审批"),
        (1, 3, "【紧急】【暂挂】请审批"),
    ],
)
def test_title_prefixes(level: int, type_: int, title: str) -> None:
    assert todo_render.title(make(level=level, type_=type_)) == title


def test_work_record_titles_are_cut_from_50_characters() -> None:
    assert todo_render.work_record_title(make("字" * 49)) == "字" * 49
    assert todo_render.work_record_title(make("字" * 50)) == "字" * 45 + "..."
    assert todo_render.work_record_title(make("字" * 48, level=2)) == "【急】" + "字" * 42 + "..."


def test_targets_in_both_shapes_and_bad_ones_refused() -> None:
    assert todos.parse_refs('{"LoginName":"zhangsan"}') == [todos.Ref("LoginName", "zhangsan")]
    assert todos.parse_refs([{"PersonNo": "001"}, {"Keyword": "x"}, {"PersonNo": "001"}]) == [
        todos.Ref("PersonNo", "001"),
        todos.Ref("Keyword", "x"),
    ]
    for bad in ("", "{bad", "[]", '[{"Nickname":"x"}]', '["x"]'):
        with pytest.raises(todos.TodoInputError):
            todos.parse_refs(bad)


def test_identity_needs_model_name_and_id() -> None:
    _, one = todos.identity_of({"modelName": "m", "modelId": "1"})
    _, same = todos.identity_of({"modelName": "m", "modelId": "1", "key": ""})
    _, other = todos.identity_of({"modelName": "m", "modelId": "1", "param1": "p"})
    assert one == same != other
    with pytest.raises(todos.TodoInputError):
        todos.identity_of({"modelName": "m"})


def test_colours_become_argb() -> None:
    assert normalise_colour("#1e6fd9") == "FF1E6FD9"
    assert normalise_colour("801E6FD9") == "801E6FD9"
    assert normalise_colour("") == ""
    with pytest.raises(ConnectorError):
        normalise_colour("blue")


def test_notification_uses_the_colour_and_a_status_bar_except_for_to_reads() -> None:
    msg = todo_render.notification(make(), "FFE6A23C")
    assert msg["oa"]["head"]["bgcolor"] == "FFE6A23C"
    assert msg["oa"]["status_bar"]["status_value"] == "待处理"
    assert "status_bar" not in todo_render.notification(make(type_=2), "")["oa"]
