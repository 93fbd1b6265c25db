"""`agrodrone upload`: put one sortie's parameters, fence, rally points and mission on a
vehicle, each verified by reading it back."""

from __future__ import annotations

from gettext import gettext as _

import json
import time
from pathlib import Path

import click

from agrodrone.errors import UserError


def _load_source(path: Path, sortie: int, pump_servo: int, fence: bool):
    """A MissionSet from plan.json (a folder or the file), or from a .plan / .waypoints file."""
    from missions import BuildOptions, MissionError, MissionSet, build_mission, read_plan, read_waypoints

    if path.is_dir():
        path = path / "plan.json"
    if not path.exists():
        raise UserError(_("{path}: no such file (expected a plan folder with plan.json, a .plan or a .waypoints file)").format(
            path=path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(_("{path}: cannot read it as a text file ({reason})").format(path=path, reason=exc)) from None
    if path.suffix == ".waypoints" or text.lstrip().startswith("QGC WPL"):
        items = read_waypoints(text, source=str(path))
        if not items:
            raise UserError(_("{path}: no items to upload").format(path=path))
        return MissionSet(sortie=sortie, mission=[i for i in items if i.mission_type == 0],
                          fence=[i for i in items if i.mission_type == 1],
                          rally=[i for i in items if i.mission_type == 2])
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(_("{path}: not JSON ({msg} at line {line})").format(path=path, msg=exc.msg, line=exc.lineno)) from None
    if isinstance(doc, dict) and doc.get("fileType") == "Plan":
        pf = read_plan(text, source=str(path))
        return MissionSet(sortie=sortie, mission=pf.mission, fence=pf.fence, rally=pf.rally)
    if not isinstance(doc, dict) or doc.get("format") != "agrodrone-plan":
        raise MissionError(f"{path}: neither an agrodrone plan.json nor a QGroundControl .plan")
    return build_mission(doc, sortie, BuildOptions(pump_servo=pump_servo, enable_fence=fence))


@click.command("upload")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--connect", "url", required=True, metavar="URL",
              help="pymavlink connection string: tcp:127.0.0.1:5760, udp:0.0.0.0:14550, udpout:HOST:PORT, /dev/ttyUSB0")
@click.option("--sortie", default=1, show_default=True, type=click.IntRange(min=1), help="sortie of plan.json to upload")
@click.option("--baud", default=57600, show_default=True, help="serial link speed")
@click.option("--timeout", default=30.0, show_default=True, help="seconds to wait for the vehicle's heartbeat")
@click.option("--position-timeout", default=120.0, show_default=True,
              help="seconds to wait for a position estimate after boot (0: do not wait)")
@click.option("--pump-servo", default=9, show_default=True, type=click.IntRange(1, 32),
              help="servo output of the pump (SERVOn_FUNCTION=22)")
@click.option("--enable-fence", is_flag=True,
              help="also set FENCE_ENABLE=1, FENCE_TYPE=5, FENCE_ACTION=1, FENCE_ALT_MAX (by default the fence is "
                   "uploaded and left to the operator to enable, as QGroundControl does)")
@click.option("--no-params", is_flag=True, help="do not set vehicle parameters")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def upload_command(plan_dir: Path, url: str, sortie: int, baud: int, timeout: float, position_timeout: float,
                   pump_servo: int, enable_fence: bool, no_params: bool, as_json: bool) -> None:
    """Upload one sortie (parameters, fence, rally, mission) and verify it by read-back.

    PLAN_DIR is the folder `agrodrone plan` wrote (plan.json), or a QGroundControl
    .plan or a QGC WPL 110 .waypoints file.
    """
    from missions import Vehicle

    ms = _load_source(plan_dir, sortie, pump_servo, enable_fence)
    t0 = time.monotonic()
    steps: list[dict] = []
    with Vehicle.connect(url, timeout=timeout, baud=baud, on_wait=lambda m: click.echo(m, err=True)) as v:

        def set_params(step: str, values: dict[str, float]) -> None:
            if not values:
                return
            before, t = v.stats["resends"], time.monotonic()
            v.set_params(values)  # each one confirmed by the PARAM_VALUE the vehicle sends back
            steps.append({"step": step, "count": len(values), "seconds": round(time.monotonic() - t, 3),
                          "resends": v.stats["resends"] - before, "verified": True})

        if position_timeout > 0:
            v.wait_position(position_timeout)
        params = {} if no_params else dict(ms.params)
        # The fence is switched on only once this sortie's polygon is on board: an enabled
        # fence checks whatever polygon the vehicle holds at that moment.
        fence_params = {k: params.pop(k) for k in list(params) if k.startswith("FENCE_")}
        set_params("params", params)
        for kind in ("fence", "rally", "mission"):
            items = ms.items(kind)
            if not items:  # a MAVProxy fence or rally file holds no mission: keep the vehicle's
                continue
            rep = v.upload_verified(items, kind).to_dict()
            steps.append({"step": kind, **{k: rep[k] for k in ("count", "seconds", "resends", "verified", "notes")}})
        set_params("fence params", fence_params)
        vehicle = {"system": v.target_system, "component": v.target_component}
    result = {"source": str(plan_dir), "sortie": ms.sortie, "connect": url, "vehicle": vehicle,
              "steps": steps, "params": ms.params if not no_params else {},
              "swath_start_seqs": ms.swath_start_seqs(), "seconds": round(time.monotonic() - t0, 3)}
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sortie {ms.sortie} uploaded to {url} (system {vehicle['system']})")
    for col in ("step", "items", "seconds", "resends", "verified"):
        table.add_column(col, justify="left" if col == "step" else "right")
    for s in steps:
        table.add_row(s["step"], str(s["count"]), f"{s['seconds']:.2f}", str(s["resends"]),
                      "yes" if s["verified"] else "NO")
    console = Console()
    console.print(table)
    if not no_params:
        console.print("parameters: " + ", ".join(f"{k}={v:g}" for k, v in ms.params.items()))
    console.print(f"total {result['seconds']:.2f} s")
