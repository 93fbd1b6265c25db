"""The spray_records table's columns, in order, and the migration each group came with:
version 1's record, the dose map (version 4), height above ground (version 5) and the drones'
parts of a fleet job (version 6). The records hash them in this order (telemetry/records/chain.py)."""

from __future__ import annotations

# Every column of a spray record as schema v1 made it; all but id/hash/prev_hash are covered by the hash.
RECORD_COLUMNS_V1: dict[str, type] = {
    "id": int,
    "job_id": str,
    "cooperative_id": str,
    "chain_seq": int,
    "operator_id": str,
    "operator_name": str,
    "drone_id": str,
    "drone_sysid": int,
    "field_id": str,
    "field_name": str,
    "unit_id": str,
    "crop": str,
    "eppo": str,
    "growth_stage": str,
    "product": str,
    "registration": str,
    "active_substance": str,
    "tank_mix": str,
    "start_utc": str,
    "end_utc": str,
    "start_local": str,
    "end_local": str,
    "timezone": str,
    "spray_start_utc": str,
    "spray_end_utc": str,
    "area_m2": float,
    "area_ha": float,
    "area_sao": float,
    "area_in_field_ha": float,
    "volume_l": float,
    "target_dose_l_ha": float,
    "achieved_dose_l_ha": float,
    "dose_deviation_pct": float,
    "planned_sprayable_ha": float,
    "coverage_pct": float,
    "gaps_m2": float,
    "overlap_m2": float,
    "outside_field_m2": float,
    "no_spray_m2": float,
    "wind_max_m_s": float,
    "wind_mean_m_s": float,
    "flights": int,
    "sorties": int,
    "planned_sorties": int,
    "spray_time_s": float,
    "flight_time_s": float,
    "swath_m": float,
    "pump_servo": int,
    "pump_max_l_min": float,
    "plan_sha256": str,
    "plan_field_id": str,
    "as_applied_geojson": str,
    "gaps_geojson": str,
    "notes": str,
    "created_utc": str,
    "hash": str,
    "prev_hash": str,
}

# Schema v4: the dose map (telemetry/records/dosemap.py): cells of one swath by 10 m with their
# dose, how many are off the target by more than 15 %, and each swath's mean dose. Hashed like
# the rest, but left out of the hash while empty, so records made before v4 keep their hashes.
DOSE_COLUMNS: dict[str, type] = {
    "dose_cells": int,
    "dose_cells_low": int,
    "dose_cells_high": int,
    "dose_map_geojson": str,
    "swath_doses_json": str,
}
# Schema v5: height above ground of a terrain-following job (telemetry/records/agl.py), measured from
# the logged position and the plan's DEM, and as the vehicle reported it (TERRAIN_REPORT). Empty
# for a job over flat ground and in records made before v5, and then left out of the hash.
AGL_COLUMNS: dict[str, type] = {
    "agl_target_m": float,
    "agl_home_source": str,
    "agl_home_elev_m": float,
    "agl_within_pct": float,
    "agl_max_error_m": float,
    "agl_transit_min_m": float,
    "agl_reported_within_pct": float,
    "agl_reported_max_error_m": float,
    "agl_swaths_json": str,
    "agl_profile_json": str,
}
# Schema v6: a job flown by several drones at once (a fleet plan, telemetry/records/fleet.py): each
# drone's part, the area sprayed by two drones or more, and each drone's as-applied area. Empty for
# a single-drone job and in records made before v6, and then left out of the hash.
FLEET_COLUMNS: dict[str, type] = {
    "drones_json": str,
    "drone_overlap_m2": float,
    "drones_geojson": str,
}
RECORD_COLUMNS: dict[str, type] = {**RECORD_COLUMNS_V1, **DOSE_COLUMNS, **AGL_COLUMNS, **FLEET_COLUMNS}
