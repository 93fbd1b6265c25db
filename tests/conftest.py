"""Shared test fixtures: the bundled sample fields and the ARDUPILOT_SITL switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fields" / "samples"


@pytest.fixture
def samples() -> Path:
    """The sample field folder bundled in the project (never ../shared)."""
    return SAMPLES


def pytest_collection_modifyitems(config, items):
    if os.environ.get("ARDUPILOT_SITL"):
        return
    skip = pytest.mark.skip(reason="ARDUPILOT_SITL is not set: no ArduPilot SITL binary to test against")
    for item in items:
        if "sitl" in item.keywords:
            item.add_marker(skip)
