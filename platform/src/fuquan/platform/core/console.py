"""The commands' terminal output (rich)."""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console

PIPED_WIDTH = 1000  # piped into a file or a CI log: as wide as any table's rows


def output_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """A console for a command's output. On a terminal it fits the window; otherwise (a pipe, a file, a CI
    log) rich would assume 80 columns and cut a table's long unit names to "…", so it is made wide."""
    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    width = None if stream.isatty() else PIPED_WIDTH
    return Console(file=file, stderr=stderr, width=width)
