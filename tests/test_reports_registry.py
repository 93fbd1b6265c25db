"""The unit and cooperative registry: CSV and JSON files into the database, the 2025 tree as data."""

from __future__ import annotations

import json
import shutil

import pytest
from cli_support import run_cli as _run
from reports_support import REGISTRY, REGISTRY_FILES

from telemetry import TelemetryError, open_db
from telemetry.reports.indicators import Indicators, parse_period
from telemetry.reports.registry import load_registry, unit_tree


def test_bundled_registry_loads_both_trees_and_mappings(tmp_path):
    db = open_db(tmp_path / "r.db")
    rep = load_registry(db, REGISTRY_FILES)
    assert rep.inserted == {"units": 18, "unit_mappings": 7, "cooperatives": 6}
    tree = {n.id: n for n in unit_tree(db)}
    assert tree["tn"].depth == 0 and tree["tn-phu-luong"].depth == 1 and tree["tn-co-lung"].depth == 2
    assert tree["tn2025-phu-luong"].depth == 1 and tree["tn2025-phu-luong"].parent_id == "tn2025"
    assert tree["tn-co-lung"].name == "Cổ Lũng" and tree["tn-co-lung"].cooperatives == 1
    row = db.execute(
        "SELECT name, unit_id, raw_material_area, linkage_model, main_products FROM cooperatives "
        "WHERE id = 'htx-phu-binh'"
    ).fetchone()
    assert row == ("HTX Nông nghiệp Phú Bình (mẫu)", "tn-uc-ky", 1, 0, "ngô;lúa")
    # the 2025 tree holds the same cooperatives through the mappings, without touching them
    ind = Indicators(db, parse_period("2026"))
    old = {u.unit_id: u.cooperatives for u in ind.units("tn")}
    new = {u.unit_id: u.cooperatives for u in ind.units("tn2025")}
    assert old["tn"] == new["tn2025"] == 6
    assert new["tn2025-phu-luong"] == old["tn-co-lung"] + old["tn-yen-lac"] == 2
    assert db.execute("SELECT COUNT(*) FROM units WHERE level = 'district' AND id LIKE 'tn2025%'").fetchone()[0] == 0
    # loading again changes nothing and counts updates, not inserts
    again = load_registry(db, REGISTRY_FILES)
    assert sum(again.inserted.values()) == 0 and again.updated["cooperatives"] == 6


def test_json_registry_and_update_of_a_cooperative_created_by_a_record(tmp_path):
    db = open_db(tmp_path / "r.db")
    with db.conn:  # a spray record mentions a cooperative before the registry is loaded
        db.execute("INSERT INTO cooperatives (id, name) VALUES ('htx-moi', NULL)")
    doc = {
        "units": [
            {"id": "hn", "name": "Hà Nội", "level": "province", "parent_id": None},
            {"id": "hn-x", "name": "Xã Ba Vì", "level": "commune", "parent_id": "hn"},
        ],
        "cooperatives": [
            {"id": "htx-moi", "name": "HTX Mới", "unit_id": "hn-x", "raw_material_area": True, "linkage_model": "có"}
        ],
    }
    path = tmp_path / "reg.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    rep = load_registry(db, [path])
    assert rep.inserted["units"] == 2 and rep.updated["cooperatives"] == 1
    assert db.execute("SELECT name, unit_id, raw_material_area, linkage_model FROM cooperatives").fetchone() == (
        "HTX Mới",
        "hn-x",
        1,
        1,
    )
    # a plain JSON list is recognised by its keys
    lst = tmp_path / "more.json"
    lst.write_text(json.dumps([{"id": "hn-y", "name": "Xã Sơn Tây", "level": "commune", "parent_id": "hn"}]))
    assert load_registry(db, [lst]).inserted["units"] == 1


@pytest.mark.parametrize(
    "name, text, message",
    [
        (
            "u.csv",
            "id,name,level,parent_id\na,A,province,\nb,B,commune,zz\n",
            "parent 'zz' of unit 'b' is not a known unit",
        ),
        ("u.csv", "id,name,level,parent_id\na,A,province,b\nb,B,commune,a\n", "cycle"),
        ("u.csv", "id,name,level,parent_id\na,A,province,\na,A2,province,\n", "u.csv line 3: 'a' appears twice"),
        ("u.csv", "id,name,level,parent_id\na,,province,\n", "u.csv line 2: name is empty"),
        ("c.csv", "id,name,unit_id,raw_material_area\nh,H,tn-co-lung,maybe\n", "raw_material_area must be yes or no"),
        ("c.csv", "id,name,unit_id\nh,H,nowhere\n", "unit 'nowhere' of cooperative 'h' is not a known unit"),
        ("m.csv", "old_id,new_id\ntn-co-lung,tn-nowhere\n", "new_id 'tn-nowhere' is not a known unit"),
        ("x.csv", "foo,bar\n1,2\n", "not a registry file"),
        ("x.json", '{"units": [1, 2]}', "expected a list of objects"),
        ("x.json", "{not json", "not valid JSON"),
    ],
)
def test_bad_registry_files_are_one_line_errors_and_change_nothing(tmp_path, name, text, message):
    db = open_db(tmp_path / "r.db")
    load_registry(db, [REGISTRY / "units.csv"])
    before = db.execute("SELECT COUNT(*) FROM units").fetchone()[0]
    bad = tmp_path / name
    bad.write_text(text, encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("id,name,level,parent_id\nnew,Mới,commune,tn\n", encoding="utf-8")
    with pytest.raises(TelemetryError, match=message) as exc:
        load_registry(db, [good, bad])
    assert "\n" not in str(exc.value)
    assert db.execute("SELECT COUNT(*) FROM units").fetchone()[0] == before  # the good file did not land either


def test_moving_a_unit_under_its_own_descendant_is_refused(tmp_path):
    db = open_db(tmp_path / "r.db")
    load_registry(db, [REGISTRY / "units.csv"])
    move = tmp_path / "move.csv"
    move.write_text("id,name,level,parent_id\ntn-phu-luong,Phú Lương,district,tn-co-lung\n", encoding="utf-8")
    with pytest.raises(TelemetryError, match="its own ancestor"):
        load_registry(db, [move])


def test_cli_registry_load_and_show(tmp_path, capsys):
    db = tmp_path / "r.db"
    files = [str(p) for p in REGISTRY_FILES]
    code, out, err = _run(["registry", "load", "--db", str(db), *files], capsys)
    assert code == 0, err
    assert "units: 18 new" in out and "cooperatives: 6 new" in out
    code, out, _ = _run(["registry", "show", "--db", str(db)], capsys)
    assert code == 0
    lines = out.splitlines()
    i = lines.index("    Cổ Lũng [commune] (tn-co-lung)  -> tn2025-phu-luong")
    assert lines[i + 1].strip() == "* HTX Dịch vụ Nông nghiệp Cổ Lũng (mẫu) (htx-co-lung)"
    code, out, _ = _run(["registry", "show", "--db", str(db), "--json"], capsys)
    units = {u["id"]: u for u in json.loads(out)}
    assert units["tn-yen-lac"]["cooperative_ids"] == ["htx-yen-lac"] and units["tn"]["maps_to"] == ["tn2025"]
    # a mistake: one line, exit 2, nothing loaded
    bad = tmp_path / "bad.csv"
    shutil.copy(REGISTRY / "cooperatives.csv", bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("tn-uc-ky", "tn-gone"), encoding="utf-8")
    code, out, err = _run(["registry", "load", "--db", str(db), str(bad)], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "tn-gone" in err
    conn = open_db(db).conn
    assert conn.execute("SELECT unit_id FROM cooperatives WHERE id = 'htx-phu-binh'").fetchone()[0] == "tn-uc-ky"
    conn.close()
    code, _, err = _run(["registry", "load", "--db", str(db), str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "no such file" in err
    new = tmp_path / "new.db"
    code, _, err = _run(["registry", "load", "--db", str(new), str(bad)], capsys)
    assert code == 2 and "not a known unit" in err
    assert not list(tmp_path.glob("new.db*"))  # a failed load leaves no empty database behind
