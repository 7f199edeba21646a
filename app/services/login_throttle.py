"""Login throttling that strangers cannot turn against the owner (console login and domain-account login).

Three counters per failed attempt, kept in the database so every replica and a restart see them:

- the (account, address) pair: after 系统设置 登录失败锁定次数 failures the pair is locked for 锁定时长; the same
  account from another address is not affected, so five requests from a stranger no longer lock ``admin`` out;
- the address: spraying many accounts from one address meets growing delays (2, 4, 8 ... seconds, at most 15 min);
- the account: guessing one account from many addresses meets growing delays too, but short ones (at most 60 s),
  so its owner can always get in after a short wait.

Unknown accounts are counted exactly like known ones: the answers do not say whether an account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError

from app.models.security import LoginThrottle
from app.services import system_params
from app.services.errors import LoginFailed

WARN_REMAINING = 2  # say "还可尝试 N 次" only for the last attempts before a lock
ADDRESS_FREE = 10  # failures from one address before delays start
ACCOUNT_FREE = 10
ADDRESS_MAX_DELAY = 15 * 60
ACCOUNT_MAX_DELAY = 60
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    lock_minutes: int = 15


async def current_policy() -> ThrottlePolicy:
    def number(value: object, default: int) -> int:
        try:
            return max(1, int(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default

    return ThrottlePolicy(
        max_failures=number(await system_params.get_value("login_max_failures", 5), 5),
        lock_minutes=number(await system_params.get_value("login_lock_minutes", 15), 15),
    )


def _keys(login: str, ip: str) -> tuple[str, str, str]:
    login = login.strip().lower()[:64]
    ip = (ip or "-")[:64]
    return f"pair:{login}|{ip}", f"ip:{ip}", f"acct:{login}"


def _now() -> datetime:
    return datetime.now(UTC)


def _wait_message(seconds: float) -> str:
    if seconds >= 60:
        return f"登录失败次数过多，请 {int(seconds // 60) + (1 if seconds % 60 else 0)} 分钟后再试"
    return f"尝试过于频繁，请 {max(1, int(seconds + 0.999))} 秒后再试"


def locked_message(seconds: float) -> str:
    return _wait_message(seconds)


async def check(login: str, ip: str, policy: ThrottlePolicy) -> None:
    """Refuse the attempt while any of its counters is blocked (before the password is even checked)."""
    now = _now()
    rows = await LoginThrottle.filter(key__in=list(_keys(login, ip)), blocked_until__gt=now)
    if rows:
        longest = max((r.blocked_until - now).total_seconds() for r in rows if r.blocked_until)
        raise LoginFailed(_wait_message(longest))


async def _bump(key: str, now: datetime) -> LoginThrottle:
    row = await LoginThrottle.get_or_none(key=key)
    if row is None:
        try:
            return await LoginThrottle.create(key=key, failures=1, first_failure_at=now)
        except IntegrityError:  # another replica created it a moment ago
            row = await LoginThrottle.get(key=key)
    if row.first_failure_at is None or now - row.first_failure_at > WINDOW:
        row.failures, row.first_failure_at, row.blocked_until = 0, now, None
    row.failures += 1
    await row.save(update_fields=["failures", "first_failure_at", "blocked_until", "updated_at"])
    return row


async def record_failure(login: str, ip: str, policy: ThrottlePolicy) -> int:
    """Count a failure; returns how many attempts the (account, address) pair has left (0 = now locked)."""
    now = _now()
    pair_key, ip_key, account_key = _keys(login, ip)
    pair = await _bump(pair_key, now)
    left = max(policy.max_failures - pair.failures, 0)
    if left == 0:
        pair.blocked_until = now + timedelta(minutes=policy.lock_minutes)
        pair.failures = 0
        pair.first_failure_at = None
        await pair.save(update_fields=["failures", "first_failure_at", "blocked_until", "updated_at"])
    for key, free, cap in ((ip_key, ADDRESS_FREE, ADDRESS_MAX_DELAY), (account_key, ACCOUNT_FREE, ACCOUNT_MAX_DELAY)):
        row = await _bump(key, now)
        if row.failures > free:
            delay = min(2 ** min(row.failures - free, 20), cap)
            row.blocked_until = now + timedelta(seconds=delay)
            await row.save(update_fields=["blocked_until", "updated_at"])
    return left


async def record_success(login: str, ip: str) -> None:
    pair_key, _, account_key = _keys(login, ip)
    await LoginThrottle.filter(key__in=[pair_key, account_key]).delete()


async def clear_account(login: str) -> None:
    """An operator reset the account: forget its counters everywhere."""
    login = login.strip().lower()[:64]
    await LoginThrottle.filter(key=f"acct:{login}").delete()
    await LoginThrottle.filter(key__startswith=f"pair:{login}|").delete()


async def reset_all() -> None:
    await LoginThrottle.all().delete()
