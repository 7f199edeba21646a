"""Input DingTalk would refuse is refused at entry: mobiles parsed with libphonenumber's rules, invisible or control
characters in names."""

from __future__ import annotations

import pytest

from app.core.dingtalk_limits import name_problem
from app.core.mobiles import MobileInvalid, normalise_mobile


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13912345678", "13912345678"),
        ("１３９１２３４５６７８", "13912345678"),  # full-width digits
        ("139 1234 5678", "13912345678"),
        ("+86 139-1234-5678", "13912345678"),
        ("+86-13912345678", "13912345678"),
        ("008613912345678", "13912345678"),
        ("＋852 9876 5432", "+852-98765432"),
        ("+1 (650) 253-0000", "+1-6502530000"),
        ("+44 7911 123456", "+44-7911123456"),
    ],
)
def test_mobiles_are_normalised(typed: str, stored: str) -> None:
    assert normalise_mobile(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "请填写手机号"),
        ("12345", "大陆手机号为 11 位数字"),
        ("1391234567", "大陆手机号为 11 位数字"),
        ("+86-1391234567", "+86 之后应为 11 位大陆手机号"),
        ("+852-9876", "长度不符合 +852"),
        ("+1-0000000000", "不是有效的 +1 号码"),
        ("+852-98a65432", "只能包含数字"),
    ],
)
def test_mobiles_dingtalk_would_refuse_are_refused(typed: str, message: str) -> None:
    with pytest.raises(MobileInvalid) as err:
        normalise_mobile(typed)
    assert message in err.value.message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("研发\x00部", "空字符（NUL）"),
        ("研发\x07部", "控制字符（U+0007）"),
        ("\u200b\u200b", "不可见字符"),
        ("\u202e\u2066", "不可见字符"),
        ("\u200d \ufeff", "不可见字符"),
    ],
)
def test_names_with_control_or_only_invisible_characters_are_refused(name: str, message: str) -> None:
    problem = name_problem(name, "部门名称")
    assert problem is not None and problem.startswith("部门名称不能") and message in problem


@pytest.mark.parametrize("name", ["研发部", "R&D 中心", "سلام", "O\u2019Brien", "研发\u200d部"])
def test_ordinary_names_pass(name: str) -> None:
    assert name_problem(name) is None
