"""One mobile number however it is written: DingTalk treats "+86-13800000000" and "13800000000" as the same number
(a user created with one may come back with the other), so uniqueness checks and matching compare plain forms.

``normalise_mobile`` turns what a person typed (full-width digits, spaces, dashes, a ``+86`` / ``0086`` prefix, an
international number) into the form DingTalk accepts, using the maintained ``phonenumbers`` library (Google's
libphonenumber metadata) for international numbers and their length rules; it raises ``MobileInvalid`` with a
Chinese message otherwise. Mainland numbers keep the plain 11 digits DingTalk uses.

A pure helper with no imports of the app: services and the sync engine both use it.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

MAINLAND = "+86-"
_MAINLAND_RE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）.]")


class MobileInvalid(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def plain_mobile(mobile: str) -> str:
    """The number without the mainland prefix ("+86-13800000000" -> "13800000000"); other numbers as they are."""
    return mobile[len(MAINLAND) :] if mobile.startswith(MAINLAND) else mobile


def mobile_forms(mobile: str) -> list[str]:
    """Every way the same number may be stored, for a lookup (``mobile__in=``)."""
    plain = plain_mobile(mobile)
    return [plain] if plain.startswith("+") else [plain, MAINLAND + plain]


def normalise_mobile(text: str) -> str:
    """The number as DingTalk takes it: "13800000000" for the mainland, "+852-98765432" for others."""
    raw = unicodedata.normalize("NFKC", text or "").strip()  # full-width digits and plus sign become ASCII
    compact = _SEPARATORS.sub("", raw)
    if not compact:
        raise MobileInvalid("请填写手机号")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        if _MAINLAND_RE.match(compact):
            return compact
        raise MobileInvalid("手机号码不合法：大陆手机号为 11 位数字，国际号码请使用 +xx-xxxxxx 的格式")
    if not compact[1:].isdigit():
        raise MobileInvalid("手机号码只能包含数字，国际号码请使用 +xx-xxxxxx 的格式")
    try:
        number = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as exc:
        raise MobileInvalid("手机号码不合法：无法识别国家/地区代码") from exc
    national = str(number.national_number)
    if number.country_code == 86:
        if _MAINLAND_RE.match(national):
            return national
        raise MobileInvalid("手机号码不合法：+86 之后应为 11 位大陆手机号")
    if not phonenumbers.is_possible_number(number):
        raise MobileInvalid(f"手机号码长度不符合 +{number.country_code} 的号码规则")
    if not phonenumbers.is_valid_number(number):
        raise MobileInvalid(f"手机号码不是有效的 +{number.country_code} 号码")
    return f"+{number.country_code}-{national}"
