"""One mobile number however it is written: DingTalk treats "+86-13800000000" and "13800000000" as the same number
(a user created with one may come back with the other), so uniqueness checks and matching compare plain forms.

A pure helper with no imports of the app: services and the sync engine both use it.
"""

from __future__ import annotations

MAINLAND = "+86-"


def plain_mobile(mobile: str) -> str:
    """The number without the mainland prefix ("+86-13800000000" -> "13800000000"); other numbers as they are."""
    return mobile[len(MAINLAND) :] if mobile.startswith(MAINLAND) else mobile


def mobile_forms(mobile: str) -> list[str]:
    """Every way the same number may be stored, for a lookup (``mobile__in=``)."""
    plain = plain_mobile(mobile)
    return [plain] if plain.startswith("+") else [plain, MAINLAND + plain]
