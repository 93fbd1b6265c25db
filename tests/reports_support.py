"""A sample province for the report tests: the bundled registry, the bundled sample fields, and
spray records made by the telemetry package from synthetic tlogs flown over those fields.

The plans are built here (parallel swaths clipped to each field's sprayable area, split
into sorties by tank volume) because the tests must not depend on the planner's choices;
they follow docs/plan-format.md, which is all a spray record reads from a plan.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString
from synthetic import write_flights

import fields
from telemetry import create_record, import_tlog, open_db
from telemetry.reports.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "telemetry" / "samples" / "registry"
REGISTRY_FILES = [REGISTRY / n for n in ("units.csv", "units-2025.csv", "unit-mappings-2025.csv", "cooperatives.csv")]
SAMPLES = ROOT / "fields" / "samples"

DRONE = {"preset": "test-20l-quad", "name": "Quad 20 L", "tank_l": 20, "swath_m": 7, "pump_max_l_min": 6.0}
SPEED = 6.0


def _utc_us(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(timezone.utc).timestamp() * 1e6)


def sample_plan(field: fields.Field, *, swath: float = 7.0, dose: float = 15.0, tank_l: float = 20.0):
    """plan.json for `field` with east-west swaths; returns (plan, sorties as [(lonlat a, lonlat b)] lists)."""
    frame = field.frame
    area = field.sprayable
    minx, miny, maxx, maxy = area.bounds
    pieces = []
    for k, y in enumerate(np.arange(miny + swath / 2, maxy, swath)):
        cut = area.intersection(LineString([(minx - 1, y), (maxx + 1, y)]))
        segs = [g for g in getattr(cut, "geoms", [cut]) if g.geom_type == "LineString" and g.length > 1]
        segs.sort(key=lambda g: g.coords[0][0])
        for g in segs if k % 2 == 0 else segs[::-1]:
            (x0, y0), (x1, y1) = g.coords[0], g.coords[-1]
            a, b = ((x0, y0), (x1, y1)) if (x0 < x1) == (k % 2 == 0) else ((x1, y1), (x0, y0))
            pieces.append((a, b))
    sorties, current, volume = [], [], 0.0
    for a, b in pieces:
        v = shapely.distance(shapely.Point(a), shapely.Point(b)) * swath * dose / 1e4
        if current and volume + v > tank_l * 0.97:
            sorties.append(current)
            current, volume = [], 0.0
        current.append((a, b))
        volume += v
    if current:
        sorties.append(current)

    def ll(p):
        lon, lat = frame.to_wgs84(*p)
        return [round(float(lon), 7), round(float(lat), 7)]

    def g(geom):
        return json.loads(shapely.to_geojson(frame.geom_to_wgs84(geom)))

    reload_xy = (minx - 10, miny - 10)
    plan_sorties = []
    for n, sortie in enumerate(sorties, 1):
        legs, here = [], reload_xy
        for a, b in sortie:
            legs.append({"kind": "transit", "coords": [ll(here), ll(a)]})
            legs.append(
                {
                    "kind": "swath",
                    "coords": [ll(a), ll(b)],
                    "length_m": round(float(np.hypot(b[0] - a[0], b[1] - a[1])), 2),
                }
            )
            here = b
        legs.append({"kind": "transit", "coords": [ll(here), ll(reload_xy)]})
        plan_sorties.append({"index": n, "legs": legs})
    plan = {
        "format": "agrodrone-plan",
        "version": 1,
        "created_by": "tests/reports_support.py",
        "field": {
            "id": field.id,
            "name": field.name,
            "properties": dict(field.properties),
            "utm_epsg": frame.utm_epsg,
            "area_ha": field.area_ha,
            "sprayable_ha": field.sprayable_ha,
            "boundary": g(field.boundary),
            "sprayable": g(area),
            "keepout": [
                {"id": z.id, "kind": z.kind, "buffer_m": z.buffer_m, "height_m": z.height_m, "geometry": g(z.keepout)}
                for z in field.zones
            ],
        },
        "drone": {**DRONE, "tank_l": tank_l, "swath_m": swath},
        "params": {"dose_l_ha": dose, "swath_m": swath, "speed_m_s": SPEED, "height_m": 3},
        "sprayer": {
            "flow_l_min": dose * swath * SPEED * 0.006,
            "speed_m_s": SPEED,
            "pump_max_l_min": DRONE["pump_max_l_min"],
        },
        "reload": dict(zip(("lon", "lat"), ll(reload_xy))),
        "sorties": plan_sorties,
    }
    lonlat = [[(tuple(ll(a)), tuple(ll(b))) for a, b in s] for s in sorties]
    return plan, lonlat


def pwm(dose: float, swath: float = 7.0) -> int:
    return int(round(1000 + dose * swath * SPEED * 0.006 / DRONE["pump_max_l_min"] * 1000))


# (field sample, local start, dose flown / planned, wind (deg, m/s), skip swath #, operator, drone, product)
JOBS = [
    (
        "co-lung-rice-block",
        "2026-10-14T07:00:00+07:00",
        1.00,
        (60, 2.5),
        None,
        ("op-an", "Nguyễn Văn An"),
        "t20-co-lung",
        ("Anvil 5SC", "VN-0123/18", "Hexaconazole"),
    ),
    (
        "tan-cuong-tea",
        "2026-11-03T06:30:00+07:00",
        1.00,
        (120, 3.8),
        5,
        ("op-binh", "Trần Thị Bình"),
        "t20-tan-cuong",
        ("Regent 800WG", "VN-0456/19", "Fipronil"),
    ),
    (
        "phu-binh-maize",
        "2026-12-09T08:00:00+07:00",
        1.18,
        (90, 1.2),
        None,
        ("op-cuong", "Lê Văn Cường"),
        "t20-phu-binh",
        ("Amistar Top 325SC", "VN-0789/20", "Azoxystrobin"),
    ),
    (
        "dai-tu-paddies",
        "2026-09-20T07:15:00+07:00",
        1.00,
        (30, 2.0),
        None,
        ("op-dung", "Phạm Văn Dũng"),
        "t20-dai-tu",
        ("Anvil 5SC", "VN-0123/18", "Hexaconazole"),
    ),
    (
        "co-lung-rice-block",
        "2026-11-20T07:00:00+07:00",
        0.97,
        (200, 4.6),
        None,
        ("op-an", "Nguyễn Văn An"),
        "t20-co-lung",
        ("Beam 75WP", "VN-0234/17", "Tricyclazole"),
    ),
]


def build_sample_db(tmp: Path, *, jobs=JOBS, rate_hz: float = 2.0) -> Path:
    """A database with the bundled registry and one record per job in JOBS (real import + record code)."""
    tmp.mkdir(parents=True, exist_ok=True)
    db_path = tmp / "province.db"
    db = open_db(db_path)
    load_registry(db, REGISTRY_FILES)
    for k, (sample, start, factor, wind, skip, (op, op_name), drone, (prod, reg, subst)) in enumerate(jobs):
        (field,) = fields.load(SAMPLES / f"{sample}.geojson")
        plan, sorties = sample_plan(field)
        flown = sorties
        if skip is not None:  # the pilot missed one swath: a gap on the map
            flat = [s for sortie in sorties for s in sortie]
            flown = [[s for s in sortie if s != flat[skip]] for sortie in sorties]
        tlog = tmp / f"job{k}.tlog"
        write_flights(
            tlog,
            flown,
            start_us=_utc_us(start),
            pump_pwm=pwm(15 * factor),
            speed_m_s=SPEED,
            rate_hz=rate_hz,
            pump_max_l_min=DRONE["pump_max_l_min"],
            wind=wind,
            gap_s=240,
        )
        import_tlog(tlog, db)
        create_record(
            db,
            plan,
            operator=op,
            operator_name=op_name,
            drone=drone,
            product=prod,
            registration=reg,
            active_substance=subst,
            tank_mix=f"0,5 L {prod} + 19,5 L nước",
            growth_stage="BBCH 55",
        )
    db.conn.close()
    return db_path


_CACHE: dict[str, Path] = {}


def cached_sample_db(tmp_path_factory) -> Path:
    """The sample province, built once per test session; tests that change it must copy it first."""
    if "db" not in _CACHE:
        _CACHE["db"] = build_sample_db(tmp_path_factory.mktemp("province"))
    return _CACHE["db"]


# -- the browser ---------------------------------------------------------------------------------
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
# Appended to a copy of the page (the report itself has no script): after load, write each
# image's state into the DOM so --dump-dom shows whether it decoded.
IMAGE_PROBE = """<script>window.addEventListener('load', () => {
  const out = document.createElement('pre'); out.id = 'image-probe';
  out.textContent = JSON.stringify([...document.images].map(i => ({alt: i.alt, complete: i.complete,
    w: i.naturalWidth, h: i.naturalHeight})));
  document.body.appendChild(out);
});</script>"""


def chromium(
    html_file: Path, tmp: Path, *, screenshot: Path | None = None, width: int = 1200, height: int = 2400
) -> str:
    """The DOM after Chromium loaded the page (with the image probe), or a screenshot of the page."""
    import subprocess

    page = tmp / f"probe-{html_file.parent.name}-{html_file.name}"
    page.write_text(html_file.read_text(encoding="utf-8").replace("</body>", IMAGE_PROBE + "</body>"), encoding="utf-8")
    args = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}", f"--window-size={width},{height}"]
    args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    done = subprocess.run([*args, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Tables:
    """Tables of an HTML page by id: {table id: {row key: [cell text, ...]}}, plus every text."""

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        self.tables: dict[str, dict[str, list[str]]] = {}
        self.ids: dict[str, str] = {}
        tables, ids = self.tables, self.ids

        class P(HTMLParser):
            def __init__(self):
                super().__init__()
                self.table = None
                self.row = None
                self.cell = None
                self.stack: list[tuple[str, str, list[str]]] = []

            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag == "table" and a.get("id"):
                    self.table = a["id"]
                    tables[self.table] = {}
                elif tag == "tr" and self.table and "data-key" in a:
                    self.row = a["data-key"]
                    tables[self.table][self.row] = []
                elif tag == "td" and self.row is not None:
                    self.cell = []
                if a.get("id") and tag not in ("table",):
                    self.stack.append((tag, a["id"], []))

            def handle_endtag(self, tag):
                if tag == "td" and self.cell is not None and self.row is not None:
                    tables[self.table][self.row].append(" ".join("".join(self.cell).split()))
                    self.cell = None
                elif tag == "tr":
                    self.row = None
                elif tag == "table":
                    self.table = None
                if self.stack and self.stack[-1][0] == tag:
                    _, i, text = self.stack.pop()
                    ids[i] = " ".join("".join(text).split())

            def handle_data(self, data):
                if self.cell is not None:
                    self.cell.append(data)
                for _, _, text in self.stack:
                    text.append(data)

        P().feed(html)


def vi_number(text: str) -> float:
    """'1.234,56' -> 1234.56 (the Vietnamese way of writing numbers)."""
    return float(text.split()[0].replace(".", "").replace(",", "."))
