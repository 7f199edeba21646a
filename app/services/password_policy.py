"""What a new password must be: long enough (系统设置 密码最小长度), not common, not the account's own data.

Common passwords: the 30,000 most used ones that zxcvbn ships (a maintained list), compared case-insensitively and
also with trailing digits or symbols stripped ("Password1!" is "password"). Personal data: the login, the
display name and the mobile number of the account's person. Everything is compared after Unicode NFKC
normalisation with zero-width and other invisible characters removed, so "pass\u200bword" is "password"; the
stored hash is of the normalised text, so the user logs in with what they see.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from tortoise.expressions import Q

from app.core.security import MAX_PASSWORD_BYTES
from app.models.accounts import RoleGrant
from app.models.contacts import Person
from app.services import system_params

DEFAULT_MIN_LENGTH = 8
FLOOR_LENGTH = 6  # whatever 系统设置 says, never shorter than this
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_TAIL = re.compile(r"[\d\W_]+$")


def normalise(password: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", password or ""))


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    lowered = normalise(password).lower()
    stripped = _TAIL.sub("", lowered)
    return lowered in _common() or (len(stripped) >= 4 and stripped in _common())


def problem(password: str, *, min_length: int = DEFAULT_MIN_LENGTH, personal: Iterable[str] = ()) -> str | None:
    """The Chinese reason a new password is refused, or None."""
    text = normalise(password)
    if len(text) < min_length:
        return f"新密码至少 {min_length} 位"
    if len(text.encode()) > MAX_PASSWORD_BYTES:
        return f"新密码不能超过 {MAX_PASSWORD_BYTES} 字节"
    if not (any(c.isalpha() for c in text) and any(c.isdigit() for c in text)):
        return "新密码需同时包含字母和数字"
    if is_common(text):
        return "新密码是常见密码，容易被猜中，请换一个"
    lowered = text.lower()
    for word in personal:
        word = normalise(word).lower().strip()
        if len(word) >= 3 and (word in lowered or lowered in word):
            return "新密码不能包含账号、姓名或手机号"
    return None


async def min_length() -> int:
    try:
        value = int(await system_params.get_value("password_min_length", DEFAULT_MIN_LENGTH))
    except (TypeError, ValueError):
        value = DEFAULT_MIN_LENGTH
    return max(value, FLOOR_LENGTH)


async def personal_words(account_id: int, login: str, display_name: str) -> list[str]:
    words = [login, display_name]
    if "@" in login:
        words.append(login.split("@", 1)[0])
    person_ids = await RoleGrant.filter(account_id=account_id, person_id__not_isnull=True).values_list(
        "person_id", flat=True
    )
    people = await Person.filter(Q(login_name=login) | Q(mobile=login) | Q(id__in=list(person_ids))).values_list(
        "name", "mobile"
    )
    for name, mobile in people:
        words += [name or "", mobile or ""]
        if mobile and "-" in mobile:
            words.append(mobile.rsplit("-", 1)[-1])
    return [w for w in words if w]
