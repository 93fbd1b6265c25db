"""agrodrone command line: wires fields, planner, missions, sim and telemetry together."""

__version__ = "0.1.0"
