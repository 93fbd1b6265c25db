"""Bad planning input: parameters or a field the planner cannot make a safe plan for."""


class PlanError(Exception):
    """A parameter, preset or field that cannot give a plan; the message says which and why."""
