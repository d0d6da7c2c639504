"""A simulator's state: nonces, rate limits, fault settings, credentials (no HTTP here)."""

from __future__ import annotations

import msgspec
import pytest

from fuquan.integrations.partners.schemas import PARTNERS
from fuquan.integrations.simulators.control import ControlUpdate, FaultSettings, SimulatorState
from fuquan.integrations.simulators.server import app_key_for, default_credentials, derived_secret
from fuquan.platform.core.crypto import hmac_sm3_hex


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_nonce_is_single_use_per_app_key_for_twice_the_window() -> None:
    clock = Clock()
    state = SimulatorState("hrss", clock)
    assert state.use_nonce("app-a", "n1")
    assert not state.use_nonce("app-a", "n1")
    assert state.use_nonce("app-b", "n1")
    clock.now += 599
    assert not state.use_nonce("app-a", "n1")
    clock.now += 2
    assert state.use_nonce("app-a", "n1")
    state.reset()
    assert not state.use_nonce("app-a", "n1")  # reset keeps replay protection


def test_rate_limit_counts_per_app_key() -> None:
    state = SimulatorState("hrss")
    assert all(state.within_rate_limit("a") for _ in range(50))  # unlimited by default
    state.apply(ControlUpdate(rate_limit_per_second=1))
    results = [state.within_rate_limit("b") for _ in range(3)]
    assert results.count(False) >= 1
    assert state.within_rate_limit("c")


def test_partial_updates_and_reset() -> None:
    state = SimulatorState("veterans")
    state.apply(msgspec.json.decode(b'{"latency_ms": 250}', type=ControlUpdate))
    settings = state.apply(msgspec.json.decode(b'{"down": true, "rate_limit_per_second": 5}', type=ControlUpdate))
    assert settings == FaultSettings(latency_ms=250, down=True, rate_limit_per_second=5)
    settings = state.apply(msgspec.json.decode(b'{"rate_limit_per_second": null}', type=ControlUpdate))
    assert settings.rate_limit_per_second is None and settings.down
    state.calls["status"] += 3
    state.reset()
    assert state.settings == FaultSettings()
    assert state.stats()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [b'{"failure_rate": 1.5}', b'{"latency_ms": -1}', b'{"down": "yes"}', b'{"slow": true}', b"{"],
)
def test_invalid_control_updates_are_refused(body: bytes) -> None:
    with pytest.raises((msgspec.ValidationError, msgspec.DecodeError)):
        msgspec.json.decode(body, type=ControlUpdate)


def test_failure_injection_follows_the_rate() -> None:
    state = SimulatorState("hrss")
    assert not any(state.inject_failure() for _ in range(100))
    state.apply(ControlUpdate(failure_rate=1.0))
    assert all(state.inject_failure() for _ in range(100))
    state.apply(ControlUpdate(failure_rate=0.3))
    share = sum(state.inject_failure() for _ in range(2000)) / 2000
    assert 0.25 < share < 0.35


def test_credentials_are_derived_per_partner() -> None:
    credentials = default_credentials("top-secret")
    assert list(credentials) == [f"fuquan-{p}" for p in PARTNERS]
    assert credentials[app_key_for("hrss")] == derived_secret("top-secret", "hrss")
    assert derived_secret("top-secret", "hrss") == hmac_sm3_hex(b"top-secret", b"hrss")
    assert len(set(credentials.values())) == len(PARTNERS)
