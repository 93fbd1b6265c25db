"""`agrodrone report`: self-contained HTML read in headless Chromium, CSV and JSON, checked against the database."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3

import pytest
from cli_support import run_cli as _run
from reports_support import CHROMIUM, Tables, cached_sample_db, chromium, vi_number

from agrodrone.cli import main
from telemetry import open_db
from telemetry.records.dosemap import off_cells_by_reason
from telemetry.reports.indicators import Indicators, parse_period

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium); the browser checks of the HTML report are skipped",
)


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    return cached_sample_db(tmp_path_factory)


@pytest.fixture(scope="module")
def reports(province, tmp_path_factory):
    """Unit and cooperative reports for 2026-Q4 in both languages, written by the command line."""
    out = tmp_path_factory.mktemp("reports")
    made = {}
    for kind, scope in (("unit", ["--unit", "tn"]), ("coop", ["--cooperative", "htx-che-tan-cuong"])):
        for lang in ("vi", "en"):
            d = out / f"{kind}-{lang}"
            with pytest.raises(SystemExit) as exc:
                main(["report", "--db", str(province), "--out", str(d), "--period", "2026-Q4", *scope, "--lang", lang])
            assert exc.value.code == 0
            made[f"{kind}-{lang}"] = d
    return made


def _sql(province, query, args=()):
    conn = sqlite3.connect(province)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


Q4 = "substr(start_local, 1, 10) BETWEEN '2026-10-01' AND '2026-12-31'"


def test_files_are_self_contained(reports):
    for name, d in reports.items():
        html = (d / "report.html").read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
        assert not re.search(r"<script|<link|@import|url\(|src=\"(?!data:image/png;base64,)", html), name
        assert not re.search(r"https?://", html), name
        imgs = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
        assert imgs and all(len(i) > 1000 for i in imgs)
    assert {p.name for p in reports["unit-vi"].iterdir()} == {
        "report.html",
        "report.json",
        "indicators.csv",
        "cooperatives.csv",
        "months.csv",
        "drones.csv",
    }
    assert {p.name for p in reports["coop-en"].iterdir()} == {"report.html", "report.json", "jobs.csv"}


@needs_chromium
def test_unit_report_in_vietnamese_reads_right_in_chromium(reports, province, tmp_path):
    dom = chromium(reports["unit-vi"] / "report.html", tmp_path)
    images = json.loads(re.search(r'<pre id="image-probe">(.*?)</pre>', dom, re.S)[1])
    assert images and all(i["complete"] and i["w"] > 100 and i["h"] > 100 for i in images)
    page = Tables(dom)
    assert "Báo cáo ứng dụng công nghệ số trong phun thuốc bảo vệ thực vật" in dom
    assert page.ids["period"] == "Quý IV/2026 (01/10/2026 – 31/12/2026)"
    assert page.ids["unit-name"] == "Tỉnh Thái Nguyên"
    ind = page.tables["indicators"]
    n, flights, ha, litres = _sql(
        province, f"SELECT COUNT(*), SUM(flights), SUM(area_ha), SUM(volume_l) FROM spray_records WHERE {Q4}"
    )[0]
    tn = ind["tn"]
    assert tn[0].startswith("Thái Nguyên") and "Tỉnh" in tn[0]
    assert tn[1] == "3/6 · 50,0 %" and tn[2] == "2/3 · 66,7 %"
    assert vi_number(tn[3]) == round(ha, 2) and vi_number(tn[4]) == round(ha * 10000 / 360)
    assert int(tn[5]) == flights and int(tn[6]) == n and vi_number(tn[7]) == round(litres, 1)
    dose = [vi_number(x) for x in tn[8].split("/")]
    assert dose[0] == pytest.approx(litres / ha, abs=0.006) and dose[1] == 15.0
    assert tn[9] == "Đạt" and ind["tn-dinh-hoa"][9] == "Chưa đạt" and ind["tn-dai-tu"][9] == "—"
    # the commune rows trace back to their cooperative's records
    ((co_ha, co_fl),) = _sql(
        province, f"SELECT SUM(area_ha), SUM(flights) FROM spray_records WHERE cooperative_id = 'htx-co-lung' AND {Q4}"
    )
    assert vi_number(ind["tn-co-lung"][3]) == round(co_ha, 2) and int(ind["tn-co-lung"][5]) == co_fl
    assert set(page.tables["units-below"]) == {"tn-dinh-hoa", "tn-phu-dinh"}
    below = page.tables["coops-below"]
    assert set(below) == {"htx-dai-tu", "htx-phu-dinh", "htx-yen-lac"}
    assert below["htx-dai-tu"][4] == "20/09/2026" and below["htx-yen-lac"][4] == "chưa có"
    assert below["htx-phu-dinh"][0] == "HTX Chè Phú Đình (mẫu)"
    months = page.tables["months"]
    assert list(months) == ["2026-10", "2026-11", "2026-12"] and months["2026-11"][0] == "11/2026"
    for m, row in months.items():
        ((mha,),) = _sql(
            province, "SELECT COALESCE(SUM(area_ha), 0) FROM spray_records WHERE start_local LIKE ?", [m + "%"]
        )
        assert vi_number(row[1]) == round(mha, 2)
    assert "Quad 20 L" in dom and "4 bản ghi phun số" in page.ids["source"]


@needs_chromium
def test_unit_report_in_english(reports, tmp_path):
    dom = chromium(reports["unit-en"] / "report.html", tmp_path)
    page = Tables(dom)
    assert page.ids["period"] == "Q4 2026 (01/10/2026 – 31/12/2026)"
    tn = page.tables["indicators"]["tn"]
    assert tn[1] == "3/6 · 50.0 %" and tn[9] == "Met" and "Province" in tn[0]
    assert page.tables["indicators"]["tn-phu-dinh"][9] == "Below target"
    assert page.tables["coops-below"]["htx-phu-dinh"][4] == "none yet"
    assert "Raw-material linkage models applying digital technology" in dom
    assert re.fullmatch(r"\d+\.\d\d", tn[3])  # dot decimals in English


@needs_chromium
def test_cooperative_report_shows_each_job_with_its_map_dose_wind_and_hash(reports, province, tmp_path):
    dom = chromium(reports["coop-vi"] / "report.html", tmp_path)
    images = json.loads(re.search(r'<pre id="image-probe">(.*?)</pre>', dom, re.S)[1])
    # the job's map, then its dose map (cells of one swath by about 10 m coloured by dose against the target)
    assert len(images) == 2 and all(i["complete"] and i["w"] > 300 for i in images), images
    assert images[0]["alt"].startswith("Bản đồ Đồi chè Tân Cương")
    assert images[1]["alt"] == "Bản đồ liều phun"
    page = Tables(dom)
    assert page.ids["coop-name"] == "HTX Chè Tân Cương (mẫu)"
    assert page.ids["chain"].startswith("toàn vẹn")
    rec = _sql(
        province,
        "SELECT id, achieved_dose_l_ha, target_dose_l_ha, area_ha, volume_l, wind_max_m_s, hash, "
        "coverage_pct FROM spray_records WHERE cooperative_id = 'htx-che-tan-cuong'",
    )
    assert len(rec) == 1
    rid, achieved, target, ha, litres, wind, digest, coverage = rec[0]
    row = page.tables["jobs"][str(rid)]
    assert row[0] == "#1" and row[1] == "03/11/2026" and row[3] == "chè"
    assert "Regent 800WG" in row[4] and "VN-0456/19" in row[4]
    assert vi_number(row[5]) == round(ha, 2) and vi_number(row[7]) == round(litres, 1)
    assert [vi_number(x) for x in row[8].split("/")] == [round(achieved, 2), round(target, 2)]
    assert vi_number(row[10]) == round(coverage, 1) and vi_number(row[11]) == round(wind, 1)
    assert row[12].startswith(digest[:16])
    assert digest in dom  # the full hash, in the job's details
    assert "tối đa 3,8 · trung bình 3,8 m/s" in dom
    for legend in ("Khoảng sót",):  # the gap left by the skipped swath is measured
        assert legend in dom
    ((gaps,),) = _sql(province, "SELECT gaps_m2 FROM spray_records WHERE id = ?", [rid])
    assert gaps > 300
    # the cells off the dose, by the reason the record gives: the skipped swath's have none
    ((cells, off, text),) = _sql(
        province,
        "SELECT dose_cells, dose_cells_low + dose_cells_high, dose_map_geojson FROM spray_records WHERE id = ?",
        [rid],
    )
    why = off_cells_by_reason(text, target)
    assert sum(why.values()) == off and why["none"] >= 1
    assert f"{off} / {cells} ô: {why['overlap']} ô do kế hoạch phun chồng, {why['gap']} ô do kế hoạch bỏ sót" in dom
    assert f"{why['switch']} ô nơi bơm tắt" in dom
    assert f"{why['none']} ô chưa rõ lý do" in dom


@needs_chromium
def test_screenshots_in_both_languages(reports, tmp_path):
    """Pictures of the pages (kept in the test's tmp folder for a person to look at)."""
    for name in ("unit-vi", "unit-en", "coop-vi", "coop-en"):
        shot = tmp_path / f"{name}.png"
        chromium(reports[name] / "report.html", tmp_path, screenshot=shot, height=2200)
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000


def test_csv_and_json_hold_the_same_tables(reports, province):
    doc = json.loads((reports["unit-vi"] / "report.json").read_text(encoding="utf-8"))
    assert doc["report"] == "unit" and doc["period"]["key"] == "2026-Q4" and doc["targets"]["linkage_models_pct"] == 50
    assert doc["units_below_target"] == ["tn-dinh-hoa", "tn-phu-dinh"]
    assert sorted(doc["cooperatives_below_target"]) == ["htx-dai-tu", "htx-phu-dinh", "htx-yen-lac"]
    text = (reports["unit-vi"] / "indicators.csv").read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # spreadsheets then read the Vietnamese names as UTF-8
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["unit_id"] for r in rows] == [u["unit_id"] for u in doc["tables"]["indicators"]]
    db = open_db(province, create=False)
    api = {u.unit_id: u for u in Indicators(db, parse_period("2026-Q4")).units("tn")}
    db.conn.close()
    for r in rows:
        u = api[r["unit_id"]]
        assert float(r["area_ha"]) == u.area_ha and int(r["flights"]) == u.flights
        assert r["meets_target"] == {True: "yes", False: "no", None: ""}[u.meets_target]
    assert rows[0]["name"] == "Thái Nguyên"
    coop = json.loads((reports["coop-en"] / "report.json").read_text(encoding="utf-8"))
    jobs = list(csv.DictReader(io.StringIO((reports["coop-en"] / "jobs.csv").read_text(encoding="utf-8-sig"))))
    assert len(jobs) == len(coop["tables"]["jobs"]) == 1 and coop["chain"]["ok"] is True
    assert (
        jobs[0]["hash"]
        == coop["tables"]["jobs"][0]["hash"]
        == _sql(province, "SELECT hash FROM spray_records WHERE cooperative_id = 'htx-che-tan-cuong'")[0][0]
    )


def test_default_period_and_unit_and_targets(province, tmp_path, capsys):
    only_old = tmp_path / "p.db"
    shutil.copy(province, only_old)
    conn = sqlite3.connect(only_old)
    with conn:
        conn.execute("DELETE FROM unit_mappings")
        conn.execute("DELETE FROM units WHERE id LIKE 'tn2025-%'")
        conn.execute("DELETE FROM units WHERE id = 'tn2025'")
    conn.close()
    code, out, err = _run(
        ["report", "--db", str(only_old), "--out", str(tmp_path / "r"), "--target", "linkage_models=70"], capsys
    )
    assert code == 0, err
    doc = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert doc["unit"]["id"] == "tn" and doc["period"]["from"] == "2026-09-20" and doc["period"]["to"] == "2026-12-09"
    assert doc["targets"]["linkage_models_pct"] == 70 and "tn" in doc["units_below_target"]
    assert doc["records"] == 5


def test_tampered_record_shows_in_the_cooperative_report(province, tmp_path, capsys):
    path = tmp_path / "p.db"
    shutil.copy(province, path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE spray_records SET volume_l = volume_l * 0.5 WHERE cooperative_id = 'htx-co-lung' AND chain_seq = 1"
        )
    conn.close()
    code, _, err = _run(
        [
            "report",
            "--db",
            str(path),
            "--out",
            str(tmp_path / "r"),
            "--cooperative",
            "htx-co-lung",
            "--period",
            "2026",
            "--lang",
            "vi",
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert doc["chain"]["ok"] is False and doc["chain"]["problems"] == ["#1 edited"]
    assert "CÓ DẤU HIỆU SỬA/XÓA" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")


def _damaged_copy(province, tmp_path):
    path = tmp_path / "damaged.db"
    shutil.copy(province, path)
    conn = sqlite3.connect(path)
    roots = [
        r[0]
        for r in conn.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'spray_records' AND rootpage > 0")
    ]
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with open(path, "r+b") as fh:  # overwrite the root page of the records table and of each of its indexes
        for root in roots:
            fh.seek((root - 1) * page_size)
            fh.write(b"\xff" * page_size)
    return path


def test_bad_inputs_are_one_line_errors_and_write_nothing(province, tmp_path, capsys):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all " * 200)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    cases = [
        (["--db", str(province), "--unit", "tn-nowhere"], "unknown unit 'tn-nowhere'"),
        (["--db", str(province), "--unit", "tn", "--period", "2030-Q1"], "no spray record in 2030-Q1"),
        (["--db", str(province), "--unit", "tn", "--from", "2027-01-01", "--to", "2027-02-01"], "no spray record"),
        (["--db", str(province), "--unit", "tn", "--period", "2026-Q7"], "bad period"),
        (["--db", str(province), "--cooperative", "htx-yen-lac", "--period", "2026-Q4"], "has no spray record"),
        (["--db", str(province), "--cooperative", "htx-x"], "unknown cooperative 'htx-x'"),
        (["--db", str(province), "--unit", "tn", "--cooperative", "htx-co-lung"], "not both"),
        (["--db", str(province), "--unit", "tn", "--target", "linkage_models=150"], "between 0 and 100"),
        (["--db", str(junk)], "not a usable SQLite database"),
        (["--db", str(foreign)], "not an agrodrone telemetry database"),
        (["--db", str(tmp_path / "none.db")], "no such database"),
        (["--db", str(_damaged_copy(province, tmp_path)), "--unit", "tn"], "malformed"),
    ]
    for args, message in cases:
        out_dir = tmp_path / "never"
        code, _, err = _run(["report", "--out", str(out_dir), *args], capsys)
        assert code == 2, (args, err)
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, (args, err)
        assert not out_dir.exists()
    blocked = junk / "report"  # its parent is a file
    code, _, err = _run(["report", "--out", str(blocked), "--db", str(province), "--unit", "tn"], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "cannot write" in err, err


def test_without_unit_the_tree_in_force_is_reported(province, tmp_path, capsys):
    """Both the pre-2025 and the 2025 trees are loaded: the report is of the 2025 province,
    and a cooperative is placed where it is now (no district level)."""
    code, out, err = _run(["report", "--out", str(tmp_path / "unit"), "--db", str(province)], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "unit" / "report.json").read_text(encoding="utf-8"))["unit"]["id"] == "tn2025"
    code, out, err = _run(
        ["report", "--out", str(tmp_path / "coop"), "--db", str(province), "--cooperative", "htx-co-lung"], capsys
    )
    assert code == 0, err
    html = (tmp_path / "coop" / "report.html").read_text(encoding="utf-8")
    assert "Phú Lương" in html and "huyện" not in html.lower()


def test_the_report_says_which_local_unit_it_counts_in(province, tmp_path, capsys):
    code, _, err = _run(
        ["report", "--out", str(tmp_path / "r"), "--db", str(province), "--unit", "tn", "--lang", "vi", "--sao", "nam"],
        capsys,
    )
    assert code == 0, err
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "công (1.000 m²)" in html and "sào (360 m²)" not in html
    code, _, err = _run(
        ["report", "--out", str(tmp_path / "b"), "--db", str(province), "--unit", "tn", "--lang", "vi"], capsys
    )
    assert "sào (360 m²)" in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
