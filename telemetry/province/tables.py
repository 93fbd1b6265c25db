"""The province's tables as column lists: the reference tables with their keys, the jobs,
flights, sources and clocks a cooperative sends, and the raw message tables. The schema
(telemetry/province/schema.py) creates them; sync and the local reads use the same lists."""

from __future__ import annotations

from telemetry.ingest.messages import COMMON_COLUMNS, SPECS

# Reference tables: (columns as in SQLite, key). Those with a cooperative are keyed by it too.
REFERENCE: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
    "units": ({"id": str, "name": str, "level": str, "parent_id": str, "valid_from": str, "valid_to": str}, ("id",)),
    "unit_mappings": ({"old_id": str, "new_id": str, "effective_date": str, "note": str}, ("old_id", "new_id")),
    "cooperatives": (
        {
            "id": str,
            "name": str,
            "unit_id": str,
            "raw_material_area": int,
            "linkage_model": int,
            "main_products": str,
            "address": str,
            "tax_code": str,
        },
        ("id",),
    ),
    "operators": (
        {"cooperative_id": str, "id": str, "name": str, "licence": str, "phone": str},
        ("cooperative_id", "id"),
    ),
    "drones": (
        {
            "cooperative_id": str,
            "id": str,
            "name": str,
            "model": str,
            "serial": str,
            "mav_sysid": int,
            "tank_l": float,
            "swath_m": float,
            "pump_max_l_min": float,
            "pump_servo": int,
            "pwm_off": int,
            "pwm_full": int,
        },
        ("cooperative_id", "id"),
    ),
    "fields": (
        {
            "cooperative_id": str,
            "id": str,
            "name": str,
            "unit_id": str,
            "crop": str,
            "eppo": str,
            "area_ha": float,
            "area_sao": float,
            "sprayable_ha": float,
            "utm_epsg": int,
            "boundary_geojson": str,
            "properties_json": str,
        },
        ("cooperative_id", "id"),
    ),
}
SHARED = ("units", "unit_mappings", "products")  # anyone may add a missing row; nobody changes one
OWN_MUTABLE = ("operators", "drones", "fields")  # a cooperative may correct its own rows
JOB_COLUMNS = {
    "cooperative_id": str,
    "id": str,
    "field_id": str,
    "operator_id": str,
    "drone_id": str,
    "product_id": int,
    "crop": str,
    "eppo": str,
    "growth_stage": str,
    "tank_mix": str,
    "target_dose_l_ha": float,
    "plan_sha256": str,
    "plan_json": str,
    "created_utc": str,
    "note": str,
}
FLIGHT_COLUMNS = {
    "cooperative_id": str,
    "sysid": int,
    "start_us": int,
    "drone_id": str,
    "end_us": int,
    "start_utc": str,
    "end_utc": str,
    "duration_s": float,
    "job_id": str,
    "sortie": int,
    "start_boot_ms": int,
    "end_boot_ms": int,
    "clock_offset_us": int,
}
SOURCE_COLUMNS = {
    "cooperative_id": str,
    "source_key": str,
    "kind": str,
    "path": str,
    "sha256": str,
    "size_bytes": int,
    "started_utc": str,
    "finished_utc": str,
    "messages": int,
    "stored": int,
    "skipped_bytes": int,
    "drone_id": str,
}
CLOCK_COLUMNS = {
    "cooperative_id": str,
    "source_id": int,
    "sysid": int,
    "t_us": int,
    "time_boot_ms": int,
    "offset_us": int,
}
RAW_TABLES = {spec.table: {"cooperative_id": str, **COMMON_COLUMNS, **spec.columns} for spec in SPECS}
# the raw tables each migration makes (a message logged since SQLite schema v5 arrives with province v4)
RAW_SINCE = {spec.table: 4 if spec.since >= 5 else 1 for spec in SPECS}
COOP_TABLES = (
    "operators",
    "drones",
    "fields",
    "jobs",
    "flights",
    "spray_records",
    "chain_heads",
    "sources",
    "clocks",
    *(t for t in RAW_TABLES if RAW_SINCE[t] == 1),
)
