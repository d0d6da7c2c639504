"""Running the SMS platform's simulator on its own port, in a background thread (tests, the demo, the bench),
the way the partner simulators run."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from fuquan.integrations.simulators.server import _bind, _server, _ServerThread, _url
from fuquan.integrations.sms.simulator import SMS_CONTROL, SmsState, create_sms_simulator

__all__ = ["RunningSms", "running_sms_simulator"]

_START_TIMEOUT_SECONDS = 10.0


@dataclass
class RunningSms:
    url: str
    state: SmsState

    def _call(self, method: str, endpoint: str, payload: Any = None) -> Any:
        with httpx.Client(trust_env=False, timeout=5.0) as http:
            response = http.request(method, f"{self.url}{SMS_CONTROL}/{endpoint}", json=payload)
            response.raise_for_status()
            return response.json()

    def control(self, **faults: Any) -> dict[str, Any]:
        """``failure_rate``, ``lost_answer_rate``, ``down``, ``per_number_limits``."""
        result: dict[str, Any] = self._call("POST", "control", faults)
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"messages{'?to=' + to.replace('+', '%2B') if to else ''}")
        return result


@contextlib.contextmanager
def running_sms_simulator(
    credentials: Mapping[str, str], host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningSms]:
    app = create_sms_simulator(credentials)
    sock = _bind(host, port)
    thread = _ServerThread([(_server(app), sock)])
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not thread.started():
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the SMS simulator did not start") from thread.error
            time.sleep(0.01)
        yield RunningSms(_url(host, sock.getsockname()[1]), app.state.sms)
    finally:
        thread.stop()
