"""`agrodrone upload`: put one sortie's parameters, fence, rally points and mission on a
vehicle, each verified by reading it back; a terrain plan's ground is served to it while
connected, and the upload waits until the vehicle holds it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click


@click.command("upload")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option(
    "--connect",
    "url",
    required=True,
    metavar="URL",
    help="pymavlink connection string: tcp:127.0.0.1:5760, udp:0.0.0.0:14550, udpout:HOST:PORT, /dev/ttyUSB0",
)
@click.option(
    "--sortie", default=1, show_default=True, type=click.IntRange(min=1), help="sortie of plan.json to upload"
)
@click.option("--drone", default=None, help="the drone's name: its signing key (`agrodrone key`) signs the link")
@click.option("--baud", default=57600, show_default=True, help="serial link speed")
@click.option("--timeout", default=30.0, show_default=True, help="seconds to wait for the vehicle's heartbeat")
@click.option(
    "--position-timeout",
    default=120.0,
    show_default=True,
    help="seconds to wait for a position estimate after boot (0: do not wait)",
)
@click.option(
    "--pump-servo",
    default=9,
    show_default=True,
    type=click.IntRange(1, 32),
    help="servo output of the pump (SERVOn_FUNCTION=22)",
)
@click.option(
    "--enable-fence",
    is_flag=True,
    help="also set FENCE_ENABLE=1, FENCE_TYPE=5, FENCE_ACTION=1, FENCE_ALT_MAX (by default the fence is "
    "uploaded and left to the operator to enable, as QGroundControl does)",
)
@click.option(
    "--terrain-wait",
    default=45.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="seconds to wait for the vehicle to load a terrain plan's ground (TERRAIN_REQUEST)",
)
@click.option("--no-params", is_flag=True, help="do not set vehicle parameters")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def upload_command(
    plan_dir: Path,
    url: str,
    sortie: int,
    drone: str | None,
    baud: int,
    timeout: float,
    position_timeout: float,
    pump_servo: int,
    enable_fence: bool,
    terrain_wait: float,
    no_params: bool,
    as_json: bool,
) -> None:
    """Upload one sortie (parameters, fence, rally, mission) and verify it by read-back.

    PLAN_DIR is the folder `agrodrone plan` wrote (plan.json), or a QGroundControl
    .plan or a QGC WPL 110 .waypoints file.
    """
    from missions import BuildOptions, Vehicle, load_sortie, upload_sortie
    from missions.keystore import key_for
    from missions.terrain import TerrainServer

    ms = load_sortie(plan_dir, sortie, BuildOptions(pump_servo=pump_servo, enable_fence=enable_fence))
    server = TerrainServer(ms.terrain) if ms.terrain is not None else None
    t0 = time.monotonic()
    key = key_for(drone)
    try:
        with Vehicle.connect(
            url,
            timeout=timeout,
            baud=baud,
            on_wait=lambda m: click.echo(m, err=True),
            key=key,
            listeners=[server] if server is not None else (),
        ) as v:
            if server is not None:
                server.serve(v)  # from the first message on, the vehicle's terrain requests are answered
            if position_timeout > 0:
                v.wait_position(position_timeout)
            # a MAVProxy fence or rally file holds no mission: the vehicle's is kept
            done = upload_sortie(
                v,
                ms,
                set_params=not no_params,
                clear_missing=plan_dir.is_dir() or plan_dir.suffix == ".json",
                terrain=server,
                terrain_wait_s=terrain_wait,
            )
            steps = [s.to_dict() for s in done]
            ground = next((s.detail for s in done if s.step == "terrain"), None)
            vehicle = {"system": v.target_system, "component": v.target_component}
    finally:
        if server is not None:
            server.close()
    result = {
        "source": str(plan_dir),
        "sortie": ms.sortie,
        "connect": url,
        "vehicle": vehicle,
        "signing": key.fingerprint if key is not None else None,
        "steps": steps,
        "params": ms.params if not no_params else {},
        "swath_start_seqs": ms.swath_start_seqs(),
        "terrain": None
        if server is None or ms.terrain is None
        else {"dem": ms.terrain.source, "data_sent": server.sent, "detail": ground},
        "seconds": round(time.monotonic() - t0, 3),
    }
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sortie {ms.sortie} uploaded to {url} (system {vehicle['system']})")
    for col in ("step", "items", "seconds", "resends", "verified"):
        table.add_column(col, justify="left" if col == "step" else "right")
    for s in steps:
        table.add_row(
            s["step"], str(s["count"]), f"{s['seconds']:.2f}", str(s["resends"]), "yes" if s["verified"] else "NO"
        )
    console = Console()
    console.print(table)
    if not no_params:
        console.print("parameters: " + ", ".join(f"{k}={v:g}" for k, v in ms.params.items()))
    if ground is not None:
        console.print("terrain: " + ground)
    console.print(f"total {result['seconds']:.2f} s")
