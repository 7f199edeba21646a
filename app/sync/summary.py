"""The summary line of a run, in the guide's words (3.3.6.3):

``从钉钉同步部门获取9条, 更新9条, 人员获取34条, 更新34条; 从EKP同步部门获取19条, ...; 同步到钉钉部门获取8条, ...;``
"""

from __future__ import annotations

from typing import Any

STAGE_ORDER = ("ding_in", "source", "reconcile", "push")
OBJECT_LABELS = {"dept": "部门", "person": "人员"}
# Counter key -> words, in the order the guide prints them. 获取 is always shown, the others only when non-zero.
COUNTER_LABELS = (
    ("fetched", "获取"),
    ("ignored", "忽略新增"),
    ("added", "增加"),
    ("updated", "更新"),
    ("deleted", "删除"),
    ("disabled", "禁用"),
    ("add_failed", "新增异常"),
    ("update_failed", "更新异常"),
    ("delete_failed", "删除异常"),
    ("skipped", "未处理"),
    ("repaired", "与钉钉不一致待修复"),
    ("linked", "按手机号关联"),
    ("unknown", "仅钉钉中存在"),
)


def stage_title(stage: str, source_name: str = "EKP") -> str:
    titles = {"ding_in": "从钉钉同步", "source": f"从{source_name or 'EKP'}同步", "reconcile": "与钉钉核对"}
    return titles.get(stage, "同步到钉钉")


def empty_counters() -> dict[str, dict[str, int]]:
    return {kind: {key: 0 for key, _ in COUNTER_LABELS} for kind in OBJECT_LABELS}


def stage_text(stage: str, counters: dict[str, dict[str, int]], source_name: str = "EKP") -> str:
    parts: list[str] = []
    for kind, label in OBJECT_LABELS.items():
        numbers = counters.get(kind, {})
        words = [f"获取{numbers.get('fetched', 0)}条"]
        words += [f"{text}{numbers[key]}条" for key, text in COUNTER_LABELS[1:] if numbers.get(key)]
        parts.append(label + ", ".join(words))
    return stage_title(stage, source_name) + ", ".join(parts) + ";"


def build(counters: dict[str, Any], source_name: str = "EKP", notes: list[str] | None = None) -> str:
    texts = [stage_text(stage, counters[stage], source_name) for stage in STAGE_ORDER if stage in counters]
    return " ".join(texts + list(notes or []))
