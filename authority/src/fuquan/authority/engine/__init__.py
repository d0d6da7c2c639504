"""Authority decision engine (赋权): grants compiled to Casbin policy lines, decided by pycasbin
(source of truth) and by a compiled dict hot path derived from the same lines."""

from fuquan.authority.engine.casbin_engine import CasbinAuthority, RowFilter, RowsAdapter
from fuquan.authority.engine.facade import TenantAuthority
from fuquan.authority.engine.hotpath import CompiledAuthority
from fuquan.authority.engine.lines import (
    ACTIONS,
    FOREVER,
    GrantSpec,
    PolicyLine,
    RoleLine,
    chain_descendants,
    chain_window,
    children_index,
    compile_grant,
    compile_grants,
    instant,
    role_line,
    statutory_lines,
)

__all__ = [
    "ACTIONS",
    "FOREVER",
    "CasbinAuthority",
    "CompiledAuthority",
    "GrantSpec",
    "PolicyLine",
    "RoleLine",
    "RowFilter",
    "RowsAdapter",
    "TenantAuthority",
    "chain_descendants",
    "chain_window",
    "children_index",
    "compile_grant",
    "compile_grants",
    "instant",
    "role_line",
    "statutory_lines",
]
