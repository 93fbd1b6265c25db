"""The simulator's one exception class for bad settings (shown as one `error:` line)."""

from __future__ import annotations


class SimError(Exception):
    """A simulator setting or fault description the user got wrong, or a SITL start failure."""
