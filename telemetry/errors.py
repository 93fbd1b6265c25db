"""Bad telemetry input: an unreadable log, an unknown record, a plan that does not fit the flights."""


class TelemetryError(Exception):
    """A log file, database or request the telemetry package cannot use (one-line message)."""
