"""The one write path of the services: ``async with write(actor, perm, org_id=...) as w:``.

Every admin write used to spell out its own epilogue (check, snapshot, transaction, audit, push marks, hooks) and
the order drifted: audit lines were written inside, after or outside the transaction, and a notification could go
out for a write that then rolled back. The unit of work fixes the order once:

1. **Permission** (on entering, before anything is read for the write): ``authorize(actor, perm, org_id)`` re-reads
   the acting account, so a role removed or a session ended a second ago stops this write. ``w.actor`` is the
   refreshed actor. A contacts write passes the ``scope`` that ``contacts.scope.resolve`` built instead: resolving
   the scope *is* the permission check there (it authorizes and narrows to the department admin's subtrees), and
   it has to run before the input is validated.
2. **Before-snapshot**: ``target`` + ``snapshot`` give ``w.before``, taken before the block mutates anything.
3. **Transaction**: the block runs inside ``in_transaction()``; an exception rolls everything back and no
   after-commit hook runs.
4. **Audit inside the transaction** (``await w.audit(...)``): the trail line commits or rolls back with the change,
   so there is never a change without its line, nor a line for a change that did not happen.
5. **Push / feed marks** (``w.push(obj)``, ``w.feed(obj)``) are set on the object before it is saved in the block,
   so the change and "DingTalk / the mapping feed must see this" are one commit (``app/core/change_tracking``).
6. **After commit**, in this order: the hooks added with ``w.after_commit(fn)`` in the order they were added
   (follow-up writes such as role grants, cache invalidation, ending sessions, access-system notifications), then
   the contacts-changed notification (``w.contacts_changed(...)``) last, so listeners see every follow-up. Hooks run
   only when the outermost write commits: a write nested inside another (the role grants of 修改主管理员 inside the
   org's write) joins its transaction and hands its hooks to the outer one. A hook that raises stops the hooks after
   it and reaches the caller, as the hand-written epilogues did; the change itself stays committed.

Validation that needs no transaction (and may call DingTalk) runs between the permission check and the block::

    w = await writer(actor, Perm.ORG_EDIT, org_id=org.id)   # 1
    clean = await validate(...)                             # may take seconds; no transaction held
    async with w:                                           # 3-6
        ...

``write(None)`` is a write done for no admin (a login, a business system binding, a background pull) or by a helper
of a use-case that checked already; it still gets the transaction, the audit line and the hooks. A refusal that
must stay in the trail although nothing changes (登录失败, 绑定被拒) is an ``audit.record`` alone.

``tests/unit/test_write_path.py`` scans ``app/services`` and fails when a model is written outside this unit (a
helper that writes for the unit takes the open ``w: Write`` as a parameter).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from app.core import change_tracking
from app.services import audit
from app.services.permissions import Actor, Perm, authorize

if TYPE_CHECKING:
    from app.services.contacts.scope import Scope

Hook = Callable[[], Awaitable[Any] | Any]

_current: ContextVar[Write | None] = ContextVar("landing_write", default=None)


class Write:
    """One service write: see the module docstring for what it owns and in which order.

    ``org_id`` / ``org_name`` (or a contacts ``scope``) and ``kind`` (the audit's object type) are the defaults of
    every audit line; ``target`` with ``snapshot`` gives ``w.before`` on entering and the audit's before / after.
    """

    def __init__(
        self,
        actor: Actor | None,
        perm: Perm | None = None,
        *,
        org_id: int | None = None,
        org_name: str = "",
        scope: Scope | None = None,
        target: Any = None,
        snapshot: Callable[[Any], dict] | None = None,
        kind: str = "",
    ) -> None:
        self.actor = actor
        self._audit_actor = actor
        self.perm = perm
        self.org_id = scope.org_id if scope is not None and org_id is None else org_id
        self.org_name = scope.org_name if scope is not None and not org_name else org_name
        self.scope = scope
        self.target = target
        self.kind = kind
        self._snapshot = snapshot
        self.before: dict | None = None
        self._checked = perm is None
        self._hooks: list[Hook] = []
        self._changes: list[tuple[int, str, dict[str, Any]]] = []
        self._tx: Any = None
        self._token: Any = None
        self._outer: Write | None = None

    # ------------------------------------------------------------ 1. permission, 2. snapshot

    async def check(self) -> Write:
        """The permission check (re-reads the account). Idempotent; entering the block calls it too."""
        if not self._checked and self.actor is not None and self.perm is not None:
            self.actor = await authorize(self.actor, self.perm, self.org_id)
        self._checked = True
        return self

    def snapshot(self) -> dict | None:
        """The target as the snapshot function sees it now (the audit's ``after`` by default)."""
        return self._snapshot(self.target) if self._snapshot is not None and self.target is not None else None

    @property
    def unchanged(self) -> bool:
        """True when the target's snapshot is what it was on entering (nothing to save, audit or notify)."""
        return self.before is not None and self.snapshot() == self.before

    # ------------------------------------------------------------ 3. transaction

    async def __aenter__(self) -> Write:
        await self.check()
        if self._snapshot is not None and self.target is not None and self.before is None:
            self.before = self.snapshot()
        self._outer = _current.get()
        self._tx = in_transaction()
        await self._tx.__aenter__()
        self._token = _current.set(self)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        _current.reset(self._token)
        try:
            await self._tx.__aexit__(exc_type, exc, tb)
        finally:
            self._tx = None
        if exc_type is not None:
            return False
        if self._outer is not None:  # nested: the outermost write runs the hooks once everything is committed
            self._outer._hooks.extend(self._hooks)
            self._outer._changes.extend(self._changes)
            return False
        await self._run_after_commit()
        return False

    @property
    def open(self) -> bool:
        return self._tx is not None

    def _require_open(self, what: str) -> None:
        if self._tx is None:
            raise RuntimeError(f"{what} belongs inside `async with write(...)`")

    # ------------------------------------------------------------ 4. audit, 5. marks

    async def audit(
        self,
        action: str,
        *,
        object_type: str | None = None,
        object_id: Any = None,
        object_name: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        detail: str = "",
        org_id: int | None = None,
        org_name: str | None = None,
        login: str = "",
        ip: str = "",
    ) -> None:
        """The audit line of this write, in its transaction. Object and org default to the write's target and org;
        ``before`` / ``after`` default to the snapshots when a snapshot function was given."""
        self._require_open("an audit record")
        target = self.target
        await audit.record(
            self._audit_actor,
            action,
            org_id=self.org_id if org_id is None else org_id,
            org_name=self.org_name if org_name is None else org_name,
            object_type=self.kind if object_type is None else object_type,
            object_id=(getattr(target, "id", "") if target is not None else "") if object_id is None else object_id,
            object_name=(getattr(target, "name", "") if target is not None else "")
            if object_name is None
            else object_name,
            before=self.before if before is None else before,
            after=self.snapshot() if after is None else after,
            detail=detail,
            login=login,
            ip=ip,
        )

    def push(self, obj: Any) -> None:
        """The object must reach DingTalk: the next push compares hashes and sends it (set before saving)."""
        change_tracking.mark_for_push(obj)

    def feed(self, obj: Any) -> None:
        """The object's id mapping changed: business systems reading the mapping feed will see it."""
        change_tracking.touch_feed(obj)

    # ------------------------------------------------------------ 6. after commit

    def after_commit(self, hook: Hook) -> None:
        """Run ``hook`` (sync or async, no arguments) once the outermost write has committed."""
        self._hooks.append(hook)

    def contacts_changed(self, org_id: int, event_type: str, detail: dict[str, Any] | None = None) -> None:
        """Tell the change listeners (access-system notifier) after commit, after every other hook."""
        self._changes.append((org_id, event_type, detail or {}))

    async def _run_after_commit(self) -> None:
        hooks, self._hooks = self._hooks, []
        changes, self._changes = self._changes, []
        for hook in hooks:
            result = hook()
            if inspect.isawaitable(result):
                await result
        for org_id, event_type, detail in changes:
            await change_tracking.contacts_changed(org_id, event_type, detail)


def write(actor: Actor | None, perm: Perm | None = None, **options: Any) -> Write:
    """A unit of work to enter with ``async with`` (``options``: those of :class:`Write`). ``perm`` None means the
    caller's permission check already ran: a contacts write passing its ``scope``, a helper of a use-case that
    checked, or a write done for nobody (``actor`` None: a login, a binding, a background pull)."""
    return Write(actor, perm, **options)


async def writer(actor: Actor | None, perm: Perm | None = None, **options: Any) -> Write:
    """A unit of work whose permission is checked now, for services that validate before the transaction opens."""
    return await Write(actor, perm, **options).check()


def current() -> Write | None:
    """The write the calling code runs inside, if any."""
    return _current.get()
