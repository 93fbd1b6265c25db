"""`agrodrone sim`: run the simulated spray copter in the foreground until Ctrl-C."""

from __future__ import annotations

import signal
import time
from gettext import gettext as _

import click

from sim import SimError, Simulator, drone_settings, make_config, parse_home, parse_wind, plan_settings


def _pair(text: str, what: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise SimError(f"{what} {text!r}: expected two numbers separated by a comma") from None
    return a, b


def _param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        return name.strip().upper(), float(value)
    except ValueError:
        raise SimError(f"--param {text!r}: expected NAME=VALUE") from None


@click.command("sim")
@click.option(
    "--listen",
    default="tcp:127.0.0.1:5760",
    show_default=True,
    help="TCP address ground stations connect to (port 0 picks a free one).",
)
@click.option(
    "--usb",
    default=None,
    metavar="tcp:HOST:PORT",
    help="Also listen here for ground stations trusted as on the autopilot's USB port: heard even unsigned.",
)
@click.option("--out", "udp_out", multiple=True, metavar="udp:HOST:PORT", help="Also send to this UDP address.")
@click.option(
    "--plan",
    "plan_dir",
    default=None,
    type=click.Path(),
    metavar="PLAN_DIR",
    help="Take home, tank, pump, battery and mass from a plan folder (home = its reload point), "
    "and the ground from its DEM when it was planned over terrain.",
)
@click.option(
    "--plan-drone",
    "plan_drone",
    default=None,
    type=click.IntRange(min=1),
    metavar="N",
    help="With --plan for several drones: be drone N (its reload point, tank, battery, and MAV_SYSID N).",
)
@click.option(
    "--dem",
    "dem_path",
    default=None,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Fly over this DEM (any raster GDAL reads, heights in metres): take-off, landing and the "
    "height above ground follow it.  [default: the plan's DEM, else flat ground]",
)
@click.option("--home", default=None, help="LAT,LON[,ALT] of the take-off point.  [default: 21.7046,105.7312,0]")
@click.option("--speedup", type=float, default=1.0, show_default=True, help="Simulated seconds per wall second.")
@click.option("--tank", "tank_l", type=float, default=None, help="Tank capacity, litres.  [default: 10]")
@click.option(
    "--pump-max", "pump_max", type=float, default=None, help="Pump flow at full output, L/min.  [default: 2.4]"
)
@click.option("--wind", default="0,0", show_default=True, help="M_S,DIR: wind speed and the direction it comes from.")
@click.option("--gusts", type=float, default=0.0, show_default=True, help="Gust strength (m/s, seeded).")
@click.option(
    "--boot-delay",
    type=float,
    default=20.0,
    show_default=True,
    help="Simulated seconds without a position estimate after boot.",
)
@click.option("--battery-mah", type=float, default=None, help="Battery capacity.  [default: the plan's, else 22000]")
@click.option("--battery-cells", type=int, default=None, help="Cells in series.  [default: the plan's, else 12]")
@click.option("--loss", type=float, default=0.0, show_default=True, help="Probability a MAVLink frame is lost.")
@click.option("--duplicate", type=float, default=0.0, help="Probability a frame is sent twice.")
@click.option("--reorder", type=float, default=0.0, help="Probability a frame is held behind the next.")
@click.option("--latency", type=float, default=0.0, help="Wall seconds added to every frame sent.")
@click.option("--link-cut", default=None, metavar="AT,SECONDS", help="Cut the link at sim time AT for SECONDS.")
@click.option("--gps-loss", default=None, metavar="AT,SECONDS", help="Lose GPS at sim time AT (SECONDS 0 = for good).")
@click.option("--battery-failure", type=float, default=None, metavar="AT", help="A cell fails at sim time AT.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for gusts and link faults.")
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the ground truth (JSON lines) to this file.",
)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Set a parameter at boot.")
@click.option(
    "--drone",
    default=None,
    metavar="NAME",
    help="Boot with this drone's signing key installed: all it sends is signed, unsigned packets are ignored "
    "except from --usb.",
)
def sim_command(
    listen,
    usb,
    udp_out,
    plan_dir,
    plan_drone,
    dem_path,
    home,
    speedup,
    tank_l,
    pump_max,
    wind,
    gusts,
    boot_delay,
    battery_mah,
    battery_cells,
    loss,
    duplicate,
    reorder,
    latency,
    link_cut,
    gps_loss,
    battery_failure,
    seed,
    truth_path,
    params,
    drone,
) -> None:
    """Run a simulated ArduCopter spray drone (MAVLink 2 over TCP) until Ctrl-C."""
    settings: dict = {}
    terrain = None
    if plan_drone is not None and plan_dir is None:
        raise SimError(_("--plan-drone needs --plan (the plan for several drones)"))
    if dem_path is not None:
        from fields.dem_files import load_dem

        terrain = load_dem(dem_path)  # a missing or unreadable file: one error line
    if plan_dir is not None:
        from planner import load_plan, load_terrain

        doc = load_plan(plan_dir)
        # what the options below give wins; drone N of a plan for several: its part, MAV_SYSID N
        settings = drone_settings(doc, plan_drone) if plan_drone is not None else plan_settings(doc)
        if terrain is None:
            terrain = load_terrain(plan_dir, doc)
    if terrain is not None:
        settings["terrain"] = terrain
    given = {
        "home": parse_home(home) if home else None,
        "tank_l": tank_l,
        "pump_max_l_min": pump_max,
        "battery_mah": battery_mah,
        "battery_cells": battery_cells,
    }
    settings.update({k: v for k, v in given.items() if v is not None})
    wind_m_s, wind_dir = parse_wind(wind)
    if drone is not None:
        from missions.keystore import KeyStore

        settings["signing_key"] = KeyStore().load(drone).secret  # a missing key: one error line
    settings.update(
        listen=listen,
        usb=usb,
        udp_out=tuple(udp_out),
        speedup=speedup,
        wind_m_s=wind_m_s,
        wind_dir_deg=wind_dir,
        gust_m_s=gusts,
        boot_delay_s=boot_delay,
        seed=seed,
        truth_path=truth_path,
        params=tuple(settings.pop("params", {}).items()) + tuple(_param(p) for p in params),
        loss=loss,
        duplicate=duplicate,
        reorder=reorder,
        latency_s=latency,
        battery_failure_at_s=battery_failure,
    )
    if link_cut:
        settings["link_cut_at_s"], settings["link_cut_s"] = _pair(link_cut, "--link-cut")
    if gps_loss:
        settings["gps_loss_at_s"], settings["gps_loss_s"] = _pair(gps_loss, "--gps-loss")
    cfg = make_config(None, **settings)
    simulator = Simulator(cfg)

    def _terminate(signum, frame):  # a service manager's stop is a clean stop too
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    simulator.start()
    usb_note = f", trusted on {simulator.link.usb_url}" if simulator.link.usb_url else ""
    signed = f"; signing with drone {drone}'s key" if drone else ""
    ground = ""
    if terrain is not None:
        ground = f"; ground from the DEM {terrain.source or dem_path}, home at {simulator.copter.origin_alt:.1f} m AMSL"
    click.echo(
        f"agrodrone sim: listening on {simulator.url}{usb_note} (speedup {cfg.speedup:g}){signed}{ground}; "
        "Ctrl-C stops",
        err=True,
    )
    try:
        while simulator.running():
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
        signal.signal(signal.SIGTERM, previous)
    if simulator.error is not None:
        raise simulator.error
    truth = simulator.truth()
    click.echo(
        f"agrodrone sim: stopped at {truth.sim_time_s:.1f} s simulated; sprayed {truth.sprayed_l:.2f} L, "
        f"{truth.tank_l:.2f} L left" + (f"; ground truth in {truth_path}" if truth_path else ""),
        err=True,
    )
