"""Chinese names in the order Chinese readers expect: by pinyin (张三 after 李四), not by Unicode code point.

``sort_key`` turns a name into its toneless pinyin syllables (pypinyin, with its phrase dictionary for polyphonic
characters), followed by the name itself so that names with the same pinyin stay in a stable order. Latin letters
and digits keep their own place: "Alice" sorts with the A's.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=20_000)
def sort_key(name: str) -> tuple[str, str]:
    text = (name or "").strip()
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="default")
    return " ".join(s.lower() for s in syllables), text


def sorted_by_name(items, name=lambda item: item):
    """``items`` sorted by the pinyin of ``name(item)``."""
    return sorted(items, key=lambda item: sort_key(name(item)))
