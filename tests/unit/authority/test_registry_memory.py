"""A serving process moves its engines out of the cyclic garbage collector's reach once built (no 150 ms full
collections while requests are in flight), and a replaced one is collected first. Run in a child process:
freezing the collector is process-wide."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_large_engines_are_frozen_and_replaced_ones_collected() -> None:
    code = textwrap.dedent(
        """
        import gc, weakref
        from fuquan.authority.registry import exempt_from_gc

        class Engine:  # stands in for an engine: objects in reference cycles
            def __init__(self):
                self.me = self
                self.lines = [[n] for n in range(1000)]

        first = Engine()
        exempt_from_gc(replaced=False)
        assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
        gone = weakref.ref(first)
        del first
        second = Engine()
        exempt_from_gc(replaced=True)  # the old engine is collected, then everything alive is frozen again
        assert gone() is None
        assert gc.get_freeze_count() > 1000
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
