"""One pycasbin FastEnforcer per tenant: the source of truth for authority decisions.

pycasbin internals this module works around (2.8):

- ``CoreEnforcer.enforce_ex`` re-parses the matcher (``ast.parse`` + a new simpleeval
  evaluator) on every call: ~70 µs of a ~90 µs decision on a one-line filter. ``_Enforcer``
  caches the evaluator (the matcher text never changes).
- ``Policy.add_policy`` records ``len(policy)``, and ``FastPolicy.__len__`` materialises every
  line, so adding N lines one by one is O(N²). Lines go straight into the FastPolicy index.
- ``remove_filtered_policy`` replaces the FastPolicy with a plain list (the index is gone).
  Only exact removals are used.
- The enforcer logs a WARNING string for every deny unless its logger is disabled; a later
  ``logging.config.dictConfig`` can re-enable the shared "casbin.enforcer" logger, so each
  enforcer gets a private logger that no configuration can reach.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, cast

import casbin
from casbin.model import FastModel, FastPolicy, fast_policy_filter
from casbin.persist.adapters.adapter_filtered import FilteredAdapter
from casbin.util import SimpleEval

from fuquan.authority.engine.lines import (
    BUCKET_LENGTH,
    PolicyLine,
    RoleLine,
    bucket_of,
    bulk_load,
    check_line,
    check_role_line,
    grant_id_of,
    in_scope,
    in_window,
    perm_of,
)

CACHE_KEY_ORDER = (0, 1)
_MODEL_TEXT = resources.files("fuquan.authority.engine").joinpath("model.conf").read_text("utf-8")

_silent = logging.Logger("fuquan.authority.casbin.silent", logging.CRITICAL + 1)
_silent.disabled = True


def _as_line(line: Sequence[str]) -> PolicyLine:
    """FastPolicy stores lines as tuples (and compares them as such); a tuple is not copied."""
    return cast(PolicyLine, tuple(line))


def model_text() -> str:
    """The Casbin model (model.conf shipped with this package)."""
    return _MODEL_TEXT


class _Enforcer(casbin.FastEnforcer):  # type: ignore[misc,unused-ignore]  # casbin is untyped
    """FastEnforcer that compiles each matcher once instead of on every enforce."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._expressions: dict[str, SimpleEval] = {}
        super().__init__(*args, **kwargs)
        self.logger = _silent

    def _get_expression(self, expr: str, functions: Any = None) -> SimpleEval:
        evaluator = self._expressions.get(expr)
        if evaluator is None:
            # the same rewriting CoreEnforcer._get_expression does
            text = re.sub(r"!(?!=)", "not ", expr.replace("&&", "and").replace("||", "or"))
            evaluator = SimpleEval(text, functions)
            self._expressions[expr] = evaluator
        # enforce_ex regenerates g() closures per call; keep the evaluator on the current ones
        evaluator.functions = functions
        return evaluator


@dataclass(frozen=True, slots=True)
class RowFilter:
    """Filter for RowsAdapter.load_filtered_policy: p rows whose key starts with a prefix
    (a tenant's province code), and the g rows when ``roles`` is set."""

    key_prefix: str = ""
    roles: bool = True


class RowsAdapter(FilteredAdapter):  # type: ignore[misc,unused-ignore]  # casbin is untyped
    """Casbin adapter over rows already fetched elsewhere (the database layer is async).

    Rows are ``("p", key, perm, scope, win, eft)`` or ``("g", role, perm)``. Read-only:
    changes are written by the repositories, not through the enforcer.
    """

    def __init__(self, rows: Iterable[tuple[str, ...]]) -> None:
        self._rows = list(rows)
        self._filtered = False

    def load_policy(self, model: Any) -> None:
        self._filtered = False
        self._load(model, None)

    def load_filtered_policy(self, model: Any, filter: RowFilter) -> None:
        self._filtered = True
        self._load(model, filter)

    def is_filtered(self) -> bool:
        return self._filtered

    def _load(self, model: Any, row_filter: RowFilter | None) -> None:
        p_policy = model.model["p"]["p"].policy
        g_policy = model.model["g"]["g"].policy
        for row in self._rows:
            ptype, values = row[0], tuple(row[1:])
            if ptype == "p":
                if row_filter is None or values[0].startswith(row_filter.key_prefix):
                    check_line(_as_line(values))
                    p_policy.append(values)
            elif ptype == "g":
                if row_filter is None or row_filter.roles:
                    if len(values) != 2:
                        raise ValueError(f"g row needs role and perm: {row!r}")
                    check_role_line((values[0], values[1]))
                    g_policy.append(list(values))
            else:
                raise ValueError(f"unknown policy type {ptype!r}")


class CasbinAuthority:
    """A tenant's authority decided by pycasbin (FastEnforcer keyed by unit or bucket, and perm)."""

    def __init__(self, adapter: RowsAdapter | None = None, row_filter: RowFilter | None = None) -> None:
        model = FastModel(list(CACHE_KEY_ORDER))
        model.load_model_from_text(_MODEL_TEXT)
        self.enforcer = _Enforcer(model, None, cache_key_order=list(CACHE_KEY_ORDER))
        self.enforcer.add_function("inScope", in_scope)
        self.enforcer.add_function("inWindow", in_window)
        if adapter is not None:
            # casbin's own loading path, for rows straight from a store
            self.enforcer.set_adapter(adapter)
            with bulk_load():
                if row_filter is None:
                    self.enforcer.load_policy()
                else:
                    self.enforcer.load_filtered_policy(row_filter)
            # the adapter is read-only; never let add/remove calls reach it
            self.enforcer.set_adapter(None)
        self._bind()

    def _bind(self) -> None:
        # the FastPolicy object is replaced by every clear/load; keep direct references to it
        self._policy: FastPolicy = self.enforcer.model.model["p"]["p"].policy
        self._policy_cache: dict[str, dict[str, set[PolicyLine]]] = self._policy._cache

    def load(self, p_lines: Iterable[PolicyLine], g_lines: Iterable[RoleLine] = (), *, check: bool = True) -> None:
        """Replace the whole policy. Lines go straight into FastPolicy's index (O(N))."""
        self.enforcer.clear_policy()
        self.enforcer.get_role_manager().clear()
        self._bind()
        with bulk_load():
            self._fill(p_lines, check)
        self.add_role_permissions(g_lines)

    def _fill(self, p_lines: Iterable[PolicyLine], check: bool) -> None:
        cache = self._policy_cache
        for given in p_lines:
            if check:
                check_line(given)
            line = _as_line(given)
            by_perm = cache.get(line[0])
            if by_perm is None:
                by_perm = cache[line[0]] = {}
            lines = by_perm.get(line[1])
            if lines is None:
                lines = by_perm[line[1]] = set()
            lines.add(line)

    def add_lines(self, lines: Iterable[PolicyLine], *, check: bool = True) -> None:
        """Add policy lines (already present ones are left as they are: lines form a set)."""
        batch = list(lines)
        if check:
            for line in batch:
                check_line(line)
        cache = self._policy_cache
        for line in batch:
            cache.setdefault(line[0], {}).setdefault(line[1], set()).add(_as_line(line))

    def remove_lines(self, lines: Iterable[PolicyLine], *, check: bool = True) -> None:
        """Remove exactly these lines (absent ones are ignored)."""
        batch = list(lines)
        if check:
            for line in batch:
                check_line(line)
        cache = self._policy_cache
        for line in batch:
            by_perm = cache.get(line[0])
            if by_perm is None:
                continue
            found = by_perm.get(line[1])
            if found is None:
                continue
            found.discard(_as_line(line))
            # prune, so memory follows the live policy (no filter is active between calls)
            if not found:
                del by_perm[line[1]]
                if not by_perm:
                    del cache[line[0]]

    def add_role_permissions(self, lines: Iterable[RoleLine]) -> None:
        batch = list(lines)
        for line in batch:
            check_role_line(line)
        new = [list(line) for line in dict.fromkeys(batch) if not self.enforcer.has_grouping_policy(*line)]
        if new:
            self.enforcer.add_grouping_policies(new)

    def remove_role_permissions(self, lines: Iterable[RoleLine]) -> None:
        old = [list(line) for line in lines if self.enforcer.has_grouping_policy(*line)]
        if old:
            self.enforcer.remove_grouping_policies(old)

    def role_permissions(self) -> list[RoleLine]:
        return [(r[0], r[1]) for r in self.enforcer.get_grouping_policy()]

    def lines(self) -> set[PolicyLine]:
        """Every policy line (O(N); for tests and reconciliation)."""
        return set(self.iter_lines())

    def iter_lines(self) -> Iterator[PolicyLine]:
        """Every policy line, without copying them into a new collection."""
        for by_perm in self._policy_cache.values():
            for lines in by_perm.values():
                yield from lines

    def decide(self, node: str, item: str, act: str, role: str, now: str) -> tuple[bool, int | None]:
        """May ``node`` perform item/act at ``now`` (as ``role``; "" = the unit's authority only)?

        Returns the decision and the id of a grant whose line matched. One enforce per key: the
        node's own unit lines, then (below township level) the subtree lines of its bucket.
        """
        if "|" in role:
            return False, None
        perm = perm_of(item, act)
        for key in (node, bucket_of(node)) if len(node) > BUCKET_LENGTH else (node,):
            by_perm = self._policy_cache.get(key)
            if by_perm is None or perm not in by_perm:
                # an empty filter leaves casbin nothing to match (inScope(node, "") is false):
                # the call could only deny, so it is skipped
                continue
            with fast_policy_filter(self._policy, key, perm):
                allowed, rule = self.enforcer.enforce_ex(key, perm, node, role, now)
            if allowed:
                return True, grant_id_of(rule[3])
        return False, None
