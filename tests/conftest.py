"""Shared test fixtures: the bundled sample fields and the ARDUPILOT_SITL switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.sitl import skip_reason as sitl_skip_reason

# Tests assert the English messages; tests of the Vietnamese ones ask for them. (A user's
# default is Vietnamese: agrodrone/i18n.py.)
os.environ["AGRODRONE_LANG"] = "en"

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fields" / "samples"


@pytest.fixture
def samples() -> Path:
    """The sample field folder bundled in the project (never ../shared)."""
    return SAMPLES


def pytest_collection_modifyitems(config, items):
    reason = sitl_skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "sitl" in item.keywords:
            item.add_marker(skip)
