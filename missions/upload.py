"""One sortie onto the vehicle, the same way for `agrodrone upload` and `agrodrone fly`.

The order matters: the sprayer parameters first, then the fence, the rally point and the
mission, each verified by read-back, and only then the FENCE_* parameters. An enabled
fence checks whatever polygon the vehicle holds at that moment, so switching it on before
this sortie's polygon is on board would check the last job's fence.

With a terrain plan the link also serves the plan's ground (a `TerrainServer` listening on
it): after the mission is on board, a "terrain" step waits until the vehicle holds the
ground under it and under every mission item (ArduPilot asks for those once it has them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from missions.build import MissionSet
from missions.errors import MissionError

if TYPE_CHECKING:
    from missions.link import Vehicle
    from missions.terrain import TerrainServer

KINDS = ("fence", "rally", "mission")


@dataclass
class UploadStep:
    """One step of a sortie upload, as the go/no-go list and `upload --json` report it."""

    step: str  # "params", "fence", "rally", "mission", "fence params"
    ok: bool
    detail: str
    count: int = 0
    seconds: float = 0.0
    resends: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "step": self.step,
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "resends": self.resends,
            "verified": self.ok,
            "notes": self.notes,
        }


def upload_sortie(
    vehicle: Vehicle,
    ms: MissionSet,
    *,
    set_params: bool = True,
    clear_missing: bool = True,
    keep_going: bool = False,
    terrain: TerrainServer | None = None,
    terrain_wait_s: float = 45.0,
) -> list[UploadStep]:
    """Put `ms` on the vehicle (see the module docstring). A fence or rally list that is
    empty is cleared on the vehicle when `clear_missing` (a plan's sortie), and left as it
    is otherwise (a mission file that carries none). With `keep_going` every step is tried
    and reported (the pre-flight list); without, the first failure raises MissionError.
    `terrain`, serving on this link, adds the "terrain" step (up to `terrain_wait_s`)."""
    steps: list[UploadStep] = []
    params = dict(ms.params) if set_params else {}
    fence_params = {k: params.pop(k) for k in list(params) if k.startswith("FENCE_")}

    def run(step: str, action) -> bool:
        before, t0 = vehicle.stats["resends"], time.monotonic()
        try:
            result = action()
        except MissionError as exc:
            if not keep_going:
                raise
            steps.append(UploadStep(step, False, str(exc)))
            return False
        if result is not None:
            result.resends = vehicle.stats["resends"] - before
            result.seconds = time.monotonic() - t0
            steps.append(result)
        return True

    def param_step(step: str, values: dict[str, float]):
        def action() -> UploadStep | None:
            if not values:
                return None
            confirmed = vehicle.set_params(values)  # each one confirmed by the PARAM_VALUE sent back
            return UploadStep(step, True, ", ".join(f"{k}={v:g}" for k, v in confirmed.items()), len(values))

        return action

    def list_step(kind: str):
        def action() -> UploadStep | None:
            items = ms.items(kind)
            if items:
                rep = vehicle.upload_verified(items, kind)
                return UploadStep(kind, True, f"{len(items)} items uploaded and verified", len(items), notes=rep.notes)
            if clear_missing and kind != "mission":
                vehicle.clear(kind)
                return UploadStep(kind, True, "none (cleared on the vehicle)")
            return None

        return action

    run("params", param_step("params", params))
    on_board = all([run(kind, list_step(kind)) for kind in KINDS])  # every step tried
    if fence_params and not on_board:
        steps.append(UploadStep("fence params", False, "not enabled: the fence or mission is not on board"))
    else:
        run("fence params", param_step("fence params", fence_params))
    if terrain is not None:

        def terrain_step() -> UploadStep:
            ok, detail = terrain.check(timeout_s=terrain_wait_s)
            if not ok:
                raise MissionError(detail)
            loaded = terrain.report.loaded if terrain.report is not None else 0
            return UploadStep("terrain", True, detail, loaded)

        run("terrain", terrain_step)
    return steps
