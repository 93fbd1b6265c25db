"""`agrodrone records`: create, list, show, export and verify spray records."""

from __future__ import annotations

import json
from gettext import gettext as _
from pathlib import Path

import click

from agrodrone.errors import UserError
from agrodrone.output import write_atomic
from agrodrone.types import NUMBER

_LIST_COLUMNS = (
    "id",
    "cooperative_id",
    "chain_seq",
    "field_id",
    "start_local",
    "area_ha",
    "area_sao",
    "volume_l",
    "target_dose_l_ha",
    "achieved_dose_l_ha",
    "coverage_pct",
    "sorties",
    "product",
)


def _db(path: str):
    from telemetry import open_db

    return open_db(path, create=False)


@click.group("records")
def records() -> None:
    """Spray records: what was sprayed, where, at which dose (tamper-evident)."""


@records.command("create")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False))
@click.option("--plan", "plan_path", required=True, type=click.Path(), help="plan folder or plan.json")
@click.option("--job", "job_id", default=None, help="job id [default: <field>-<local start time>]")
@click.option(
    "--flight",
    "flight_ids",
    type=int,
    multiple=True,
    help="flight id (repeat per sortie) [default: the earliest unassigned flights over the field]",
)
@click.option("--cooperative", default=None, help="[default: the plan field's cooperative]")
@click.option("--operator", default=None, help="operator id")
@click.option("--operator-name", default=None)
@click.option(
    "--drone",
    "drones",
    multiple=True,
    help="drone id (a plan for several drones: repeat it, one per drone in the plan's order)",
)
@click.option("--product", default=None, help="product trade name")
@click.option("--registration", default=None, help="product registration number")
@click.option("--active-substance", default=None)
@click.option("--tank-mix", default=None, help="e.g. '0.5 L product + 9.5 L water'")
@click.option("--growth-stage", default=None, help="crop growth stage (e.g. BBCH 55)")
@click.option("--pump-servo", type=int, default=None, help="servo channel of the pump (SERVOn_FUNCTION=22)")
@click.option("--pump-max", type=NUMBER, default=None, help="pump flow at full output, L/min")
@click.option("--tz", default=None, help="local time zone [default: Asia/Ho_Chi_Minh]")
@click.option("--notes", default=None)
@click.option("--json", "as_json", is_flag=True)
def create(
    db_path: str,
    plan_path: str,
    job_id,
    flight_ids,
    cooperative,
    operator,
    operator_name,
    drones,
    product,
    registration,
    active_substance,
    tank_mix,
    growth_stage,
    pump_servo,
    pump_max,
    tz,
    notes,
    as_json: bool,
) -> None:
    """Group logged flights into a job and append its spray record."""
    from planner import load_plan, load_terrain
    from telemetry import DEFAULT_TZ, create_record

    plan = load_plan(plan_path)
    terrain = load_terrain(plan_path, plan)  # a terrain plan's DEM: the record measures height above ground
    numbers = plan.drone_numbers()
    if len(drones) > 1 and len(drones) != len(numbers):
        raise UserError(
            _("give one --drone for each of the plan's drones ({have}), in that order").format(
                have=", ".join(map(str, numbers))
            )
        )
    rec = create_record(
        _db(db_path),
        plan,
        job_id=job_id,
        flight_ids=list(flight_ids) or None,
        cooperative=cooperative,
        operator=operator,
        operator_name=operator_name,
        drone=drones[0] if len(drones) == 1 else None,
        drones=dict(zip(numbers, drones)) if len(drones) > 1 else None,
        product=product,
        registration=registration,
        active_substance=active_substance,
        tank_mix=tank_mix,
        growth_stage=growth_stage,
        pump_servo=pump_servo,
        pump_max_l_min=pump_max,
        tz=tz or DEFAULT_TZ,
        notes=notes,
        terrain=terrain,
    )
    if as_json:
        click.echo(json.dumps({k: v for k, v in rec.items() if not k.endswith("_geojson")}, ensure_ascii=False))
        return
    click.echo(
        f"record {rec['id']} ({rec['cooperative_id']} #{rec['chain_seq']}) job {rec['job_id']}: "
        f"{rec['area_ha']} ha ({rec['area_sao']} sào), {rec['volume_l']} L, "
        f"dose {rec['achieved_dose_l_ha']} L/ha (target {rec['target_dose_l_ha']}), "
        f"coverage {rec['coverage_pct']} %, {rec['sorties']} sortie(s)"
    )
    for line in drone_lines(rec):
        click.echo(line)
    if rec.get("agl_target_m") is not None:
        click.echo(
            _(
                "height above ground: {within} % of spraying within ±1 m of {target} m "
                "(largest error {error} m), lowest in transit {transit} m"
            ).format(
                within=_or_dash(rec["agl_within_pct"]),
                target=rec["agl_target_m"],
                error=_or_dash(rec["agl_max_error_m"]),
                transit=_or_dash(rec["agl_transit_min_m"]),
            )
        )


def _or_dash(v) -> str:
    return "—" if v is None else str(v)


def drone_lines(rec: dict) -> list[str]:
    """A fleet record's parts, one line per drone, and the overlap between drones ([] for one drone)."""
    parts = json.loads(rec["drones_json"]) if rec.get("drones_json") else []
    lines = [
        _(
            "drone {n} ({name}, system id {sysid}): {sorties}/{planned} sortie(s), {ha} ha, {litres} L, "
            "{minutes} min flown"
        ).format(
            n=d["drone"],
            name=d["drone_id"] or "—",
            sysid=_or_dash(d["sysid"]),
            sorties=d["sorties"],
            planned=_or_dash(d["planned_sorties"]),
            ha=round(d["area_m2"] / 10_000, 4),
            litres=d["volume_l"],
            minutes=round(d["flight_time_s"] / 60, 1),
        )
        for d in parts
    ]
    if parts:
        lines.append(_("sprayed by two drones or more: {m2} m²").format(m2=rec["drone_overlap_m2"]))
    return lines


@records.command("list")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False))
@click.option("--cooperative", default=None)
@click.option("--field", default=None)
@click.option("--json", "as_json", is_flag=True)
def list_(db_path: str, cooperative: str | None, field: str | None, as_json: bool) -> None:
    """One line per record."""
    from rich.console import Console
    from rich.table import Table

    from telemetry import list_records

    rows = list_records(_db(db_path), cooperative=cooperative, field=field)
    if as_json:
        click.echo(json.dumps([{c: r[c] for c in _LIST_COLUMNS} for r in rows], ensure_ascii=False))
        return
    table = Table(*_LIST_COLUMNS, title=f"{len(rows)} spray record(s)")
    for r in rows:
        table.add_row(*("" if r[c] is None else str(r[c]) for c in _LIST_COLUMNS))
    Console(width=200).print(table)


@records.command("show")
@click.argument("record_id")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="everything, geometry included")
def show(record_id: str, db_path: str, as_json: bool) -> None:
    """Every field of one record (by id or job id)."""
    from telemetry import export_records, get_record

    rec = get_record(_db(db_path), record_id)
    if as_json:
        click.echo(export_records([rec], "json"), nl=False)
        return
    for k, v in rec.items():
        if k.endswith("_geojson"):
            v = "(geometry, see --json or export)" if v else None
        click.echo(f"{k:22} {'' if v is None else v}")


@records.command("export")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson", "json"]), default="csv")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None, help="file [default: stdout]")
@click.option("--cooperative", default=None)
@click.option("--field", default=None)
def export(db_path: str, fmt: str, out_path: str | None, cooperative: str | None, field: str | None) -> None:
    """Every record field; GeoJSON carries the as-applied geometry."""
    from agrodrone.output import write_atomic
    from telemetry import export_records, list_records

    text = export_records(list_records(_db(db_path), cooperative=cooperative, field=field), fmt)
    if out_path:
        write_atomic(out_path, text)
        click.echo(f"wrote {out_path}", err=True)
    else:
        click.echo(text, nl=False)


@records.command("verify")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--receipt",
    "receipt_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="also check the chains against a receipt written earlier by `records receipt`",
)
def verify(db_path: str, receipt_path: str | None) -> None:
    """Recompute every record hash and chain link; exit 1 when anything was edited or deleted."""
    from telemetry.records.chain import check_receipt, verify_chain

    db = _db(db_path)
    rep = verify_chain(db)
    problems = list(rep.problems)
    if receipt_path is not None:
        try:
            problems += check_receipt(db, json.loads(Path(receipt_path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{receipt_path}: not a usable chain receipt ({exc})") from None
    for p in problems:
        click.echo(f"TAMPERED: {p}")
    if not problems:
        click.echo(
            f"ok: {rep.records} record(s) in {rep.cooperatives} cooperative chain(s) verified"
            + (f", matching the receipt {receipt_path}" if receipt_path else "")
        )
    else:
        click.echo(f"FAILED: {len(problems)} problem(s) in {rep.records} record(s)")
        raise click.exceptions.Exit(1)


@records.command("receipt")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="receipt file (JSON) to keep away from this computer",
)
def receipt_command(db_path: str, out_path: str) -> None:
    """Write the chain heads as they are now. Keep the receipt elsewhere (send it to the
    extension officer): `records verify --receipt` then shows a chain deleted or rewritten
    since, which the database alone cannot."""
    from datetime import datetime, timezone

    from telemetry.records.chain import receipt, verify_chain

    db = _db(db_path)
    rep = verify_chain(db)
    if not rep.ok:
        raise UserError(f"the chains do not verify ({rep.problems[0]}); no receipt for a tampered database")
    doc = receipt(db, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    write_atomic(Path(out_path), json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    click.echo(f"receipt {out_path}: {len(doc['chains'])} chain(s), digest {doc['digest'][:16]}")
