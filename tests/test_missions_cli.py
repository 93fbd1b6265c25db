"""`agrodrone upload` end to end: a plan folder, a real TCP MAVLink peer, JSON output."""

from __future__ import annotations

import json

from cli_support import run_cli as run
from missions_peer import ScriptedVehicle
from missions_plans import make_plan

import missions


def test_upload_plan_dir_json(tmp_path, capsys):
    plan = make_plan(sorties=2)
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    with ScriptedVehicle() as peer:
        code, out, err = run(
            ["upload", str(tmp_path), "--connect", peer.url, "--sortie", "2", "--json", "--position-timeout", "10"],
            capsys,
        )
        assert code == 0, err
        res = json.loads(out)
        ms = missions.build_mission(plan, 2)
        assert [s["step"] for s in res["steps"]] == ["params", "fence", "rally", "mission"]
        assert all(s["verified"] for s in res["steps"])
        assert {s["step"]: s["count"] for s in res["steps"]}["mission"] == len(ms.mission)
        assert res["swath_start_seqs"] == ms.swath_start_seqs()
        assert [(i.x, i.y, i.command) for i in peer.stored(0)] == [(i.x, i.y, i.command) for i in ms.mission]
        assert len(peer.stored(1)) == len(ms.fence) and peer.params["SPRAY_PUMP_RATE"] == 18.75


def test_upload_qgc_plan_file_table(tmp_path, capsys):
    plan = make_plan()
    files = missions.mission_files(plan)
    (tmp_path / "mission.plan").write_text(files["mission.plan"])
    with ScriptedVehicle() as peer:
        code, out, err = run(
            ["upload", str(tmp_path / "mission.plan"), "--connect", peer.url, "--position-timeout", "10"], capsys
        )
        assert code == 0, err
        assert "mission" in out and "fence" in out and "yes" in out
        assert len(peer.stored(0)) == len(missions.build_mission(plan, 1).mission)


def test_upload_errors_are_one_line(tmp_path, capsys):
    code, out, err = run(["upload", str(tmp_path), "--connect", "tcp:127.0.0.1:1"], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "plan.json" in err
    (tmp_path / "plan.json").write_text(json.dumps(make_plan()))
    code, out, err = run(["upload", str(tmp_path), "--connect", "tcp:127.0.0.1:1", "--timeout", "0.3"], capsys)
    assert code == 2 and err.startswith("error: cannot connect to tcp:127.0.0.1:1") and err.count("\n") == 1
    code, out, err = run(["upload", str(tmp_path), "--connect", "tcp:127.0.0.1:1", "--sortie", "9"], capsys)
    assert code == 2 and "no sortie 9" in err and "Traceback" not in err


def test_unusable_inputs_are_one_line_before_connecting(tmp_path, capsys):
    """Nothing here reaches the (unreachable) vehicle: each input fails on its own."""
    (tmp_path / "binary.plan").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "empty.waypoints").write_text("QGC WPL 110\n")
    broken = make_plan()
    broken["sprayer"]["speed_m_s"] = "fast"
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    for name, words in (
        ("binary.plan", "cannot read it as a text file"),
        ("empty.waypoints", "no items"),
        ("broken.json", "sprayer.speed_m_s is not a number"),
    ):
        code, out, err = run(["upload", str(tmp_path / name), "--connect", "tcp:127.0.0.1:1"], capsys)
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and words in err, err


def test_connect_takes_only_a_link(tmp_path, capsys):
    """A file given to --connect would be replayed as a log (or run, under bin/) by pymavlink."""
    (tmp_path / "plan.json").write_text(json.dumps(make_plan()))
    for url, words in (
        ("garbage", "neither a connection string"),
        (str(tmp_path / "plan.json"), "not a serial"),
        ("udp:127.0.0.1:99999", "port must be 0-65535"),
    ):
        code, out, err = run(["upload", str(tmp_path), "--connect", url, "--timeout", "0.3"], capsys)
        assert code == 2 and err.startswith(f"error: cannot connect to {url}") and err.count("\n") == 1, err
        assert words in err, err


def test_fence_only_waypoints_file_keeps_the_vehicle_mission(tmp_path, capsys):
    plan = make_plan()
    ms = missions.build_mission(plan, 1)
    fence_file = "QGC WPL 110\n" + "".join(
        f"{i}\t0\t0\t{it.command}\t{it.param1}\t0\t0\t0\t{it.lat:.8f}\t{it.lon:.8f}\t0\t1\n"
        for i, it in enumerate(ms.fence)
    )
    (tmp_path / "fence.waypoints").write_text(fence_file)
    with ScriptedVehicle() as peer:
        peer.lists[0].items = [it.to_message(1, 1) for it in ms.mission]  # the mission already on board
        code, out, err = run(
            [
                "upload",
                str(tmp_path / "fence.waypoints"),
                "--connect",
                peer.url,
                "--no-params",
                "--json",
                "--position-timeout",
                "10",
            ],
            capsys,
        )
        assert code == 0, err
        assert [s["step"] for s in json.loads(out)["steps"]] == ["fence"]
        assert [(i.command, i.x, i.y) for i in peer.stored(1)] == [(i.command, i.x, i.y) for i in ms.fence]
        assert len(peer.stored(0)) == len(ms.mission)  # not erased by an empty mission upload
