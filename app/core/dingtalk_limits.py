"""Names DingTalk would refuse, refused at entry with a Chinese message (the form shows it next to the field).

DingTalk rejects department and person names holding NUL or other control characters, and a name made only of
invisible characters (zero-width spaces and joiners, bidirectional-text controls) shows as blank everywhere. Length
limits stay with the services that own each field.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")


def name_problem(name: str, label: str = "名称") -> str | None:
    """Why ``name`` cannot be used, or None."""
    for ch in name:
        if unicodedata.category(ch) == "Cc":
            shown = "空字符（NUL）" if ch == "\0" else f"控制字符（U+{ord(ch):04X}）"
            return f"{label}不能包含{shown}"
    visible = [ch for ch in name if ch not in BIDI_CONTROLS and ch not in ZERO_WIDTH and not ch.isspace()]
    if not visible or all(unicodedata.category(ch) == "Cf" for ch in visible):
        return f"{label}不能只由不可见字符（零宽字符、文字方向控制符）组成"
    return None
