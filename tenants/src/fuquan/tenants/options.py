"""Unit and tenant codes on the command line, read as the API reads them (12-digit statistical forms too)."""

from __future__ import annotations

import click

from fuquan.tenants.divisions import InvalidUnitCode, normalise_unit_code


def unit_code_option(
    _ctx: click.Context, _param: click.Parameter, value: str | tuple[str, ...] | None
) -> str | tuple[str, ...] | None:
    """click callback: the code as Fuquan keeps it (640202000000 → 640202), or a usage error saying why; an
    option left out stays None."""
    if value is None:
        return None
    try:
        if isinstance(value, tuple):
            return tuple(normalise_unit_code(code) for code in value)
        return normalise_unit_code(value)
    except InvalidUnitCode as error:
        raise click.BadParameter(error.detail) from error
