"""What the test suite needs from the machine beyond Python packages, installed when missing.

The README's test command runs the whole suite on a fresh machine: the browser tests need Debian's
``chromium`` (Playwright drives /usr/bin/chromium; never a browser Playwright downloads) and ``fonts-noto-cjk``
(Chinese pages in the screenshots, not boxes). When they are missing and the suite runs as root on Debian, they
are installed with apt-get; otherwise the tests that need them fail naming the command to run — never a skip.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

_LOCK = Path("/tmp/fuquan-tests-apt.lock")


def missing_debian_packages(packages: list[str]) -> list[str]:
    missing = []
    for package in packages:
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def ensure_debian_packages(packages: list[str], why: str) -> None:
    """Install ``packages`` with apt-get when missing (as root), or fail the calling test naming them."""
    if not shutil.which("dpkg-query"):
        pytest.fail(f"{why} need Debian's {' '.join(packages)}; this machine has no dpkg", pytrace=False)
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = missing_debian_packages(packages)
        if not missing:
            return
        command = f"apt-get install {' '.join(missing)}"
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.fail(f"{why} need Debian packages that are missing: run `sudo {command}`", pytrace=False)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        ):
            done = subprocess.run(step, capture_output=True, text=True, env=environment, check=False)
            if done.returncode != 0:
                pytest.fail(
                    f"{why} need {' '.join(missing)}; `{' '.join(step)}` failed:\n{done.stderr[-2000:]}", pytrace=False
                )
        still = missing_debian_packages(missing)
        if still:
            pytest.fail(f"{why} need {' '.join(still)}, which apt-get did not install", pytrace=False)
