"""Partner-department simulators (DESIGN §8): each partner as a small real HTTP service speaking the
gateway protocol over one deterministic, cross-department consistent SYNTHETIC population (generated,
not real people).

- ``population``: ``build_population``, ``Population`` (lookups, ``examples()``, ``answer()``)
- ``app``: ``create_simulator_app`` — one partner's Litestar app with fault controls under ``/_sim``
- ``server``: ``running_simulators`` (background thread, for tests and the demo),
  ``serve_simulators`` (foreground), ``default_credentials`` / ``derived_secret`` / ``app_key_for``
"""

from __future__ import annotations

from fuquan.integrations.simulators.answers import Answer
from fuquan.integrations.simulators.app import create_simulator_app
from fuquan.integrations.simulators.population import (
    AS_OF,
    EXAMPLE_NAMES,
    Enterprise,
    Household,
    Person,
    Population,
    build_population,
    generate_population,
)
from fuquan.integrations.simulators.server import (
    RunningSimulators,
    SimulatorConfig,
    app_key_for,
    default_credentials,
    derived_secret,
    running_simulators,
    serve_simulators,
)

__all__ = [
    "AS_OF",
    "EXAMPLE_NAMES",
    "Answer",
    "Enterprise",
    "Household",
    "Person",
    "Population",
    "RunningSimulators",
    "SimulatorConfig",
    "app_key_for",
    "build_population",
    "create_simulator_app",
    "default_credentials",
    "derived_secret",
    "generate_population",
    "running_simulators",
    "serve_simulators",
]
