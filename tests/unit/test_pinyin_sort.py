"""Chinese names sort by pinyin, the way a Chinese reader looks them up."""

from __future__ import annotations

from app.core.pinyin import sorted_by_name
from app.services.admin_directory import sort_rows


def test_names_sort_by_pinyin_not_by_code_point() -> None:
    names = ["张三", "李四", "王五", "陈园园", "阿明", "Bob"]
    assert sorted(names) != sorted_by_name(names)  # code points put 张 before 李 ... and 阿 after 陈
    assert sorted_by_name(names) == ["阿明", "Bob", "陈园园", "李四", "王五", "张三"]
    assert sorted_by_name(["重庆办事处", "北京办事处"]) == ["北京办事处", "重庆办事处"]  # 重 read chóng in 重庆


def test_admin_list_sorts_chinese_columns_by_pinyin_both_ways() -> None:
    rows = [{"key": i, "name": n} for i, n in enumerate(["张三", "李四", "阿明"])]
    assert [r["name"] for r in sort_rows(rows, "name")] == ["阿明", "李四", "张三"]
    assert [r["name"] for r in sort_rows(rows, "name", descending=True)] == ["张三", "李四", "阿明"]
