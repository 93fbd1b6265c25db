"""MAVLink 2 signing on our side: the key files, `agrodrone key`, and the connecting commands
refusing a vehicle that does not sign with the drone's key (embedded simulator here; the
same on ArduCopter SITL in test_sitl_fly.py and test_sim_signing.py)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cli_support import db_rows, run_agrodrone
from signing_support import stranger_attempts
from test_fly import _sim_for, paddy_plan  # noqa: F401  (the fixture)

from missions import MissionError
from missions.keystore import KeyStore
from missions.signing import EPOCH_2015, SigningKey, timestamp_now
from sim import start_sim


@pytest.fixture(autouse=True)
def keys_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "keys"
    monkeypatch.setenv("AGRODRONE_KEYS", str(folder))
    return folder


def test_a_key_never_shows_its_secret_and_has_a_short_fingerprint() -> None:
    key = SigningKey.generate()
    assert key.secret.hex() not in repr(key) and key.secret.hex() not in str(key)
    parts = key.fingerprint.split("-")
    assert len(parts) == 4 and all(len(p) == 4 for p in parts)
    assert SigningKey(key.secret).fingerprint == key.fingerprint != SigningKey.generate().fingerprint
    with pytest.raises(ValueError):
        SigningKey(b"short")
    with pytest.raises(ValueError):
        SigningKey(bytes(32))  # the all-zero key switches signing off: never a drone's key
    assert timestamp_now(EPOCH_2015 + 1.5) == 150_000  # 10 µs units since 2015


def test_key_files_are_private_whole_and_refused_when_others_can_read_them(keys_dir: Path) -> None:
    store = KeyStore()
    key = SigningKey.generate()
    path = store.save("hex-1", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert store.load("hex-1") == key and store.names() == ["hex-1"]
    assert [p.name for p in keys_dir.iterdir()] == ["hex-1.key"]  # no temporary file left
    with pytest.raises(MissionError, match="already has a key"):
        store.save("hex-1", SigningKey.generate())
    assert store.load("hex-1") == key
    os.chmod(path, 0o644)
    with pytest.raises(MissionError, match="chmod 600"):
        store.load("hex-1")
    os.chmod(path, 0o600)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(MissionError, match="damaged"):
        store.load("hex-1")
    for bad in ("../etc", "-rf", "", "a" * 65, "tên"):
        with pytest.raises(MissionError, match="bad drone name"):
            store.path(bad)
    with pytest.raises(MissionError, match="agrodrone key create ghost"):
        store.load("ghost")


def test_a_rotation_waits_as_pending_until_promoted() -> None:
    store = KeyStore()
    old, new = SigningKey.generate(), SigningKey.generate()
    store.save("hex-1", old)
    store.save("hex-1", new, pending=True)
    assert store.load("hex-1") == old and store.get("hex-1", pending=True) == new
    store.promote("hex-1")
    assert store.load("hex-1") == new and store.get("hex-1", pending=True) is None


def test_key_commands_without_a_vehicle(tmp_path: Path, keys_dir: Path) -> None:
    made = run_agrodrone("--lang", "en", "key", "create", "hex-1", cwd=tmp_path)
    key = KeyStore().load("hex-1")
    assert key.fingerprint in made.stdout and key.secret.hex() not in made.stdout + made.stderr
    again = run_agrodrone("--lang", "en", "key", "create", "hex-1", cwd=tmp_path, check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "rotate" in again.stderr
    assert KeyStore().load("hex-1") == key  # not replaced
    listed = run_agrodrone("key", "list", cwd=tmp_path)
    assert listed.stdout.split() == ["hex-1", key.fingerprint]
    no_link = run_agrodrone("key", "install", "hex-1", cwd=tmp_path, check=False)
    assert no_link.returncode == 2 and no_link.stderr.count("\n") == 1
    bad = run_agrodrone("key", "create", "../x", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and not (keys_dir.parent / "x.key").exists()
    forgot = run_agrodrone("--lang", "en", "key", "remove", "hex-1", cwd=tmp_path)
    assert "still has it" in forgot.stdout and KeyStore().names() == []


def _upload(plan: Path, url: str, tmp_path: Path, *drone: str):
    return run_agrodrone(
        "--lang", "en", "upload", str(plan), "--connect", url, "--json", *drone, cwd=tmp_path, check=False
    )


def test_key_create_install_rotate_remove_on_the_simulator(paddy_plan: Path, tmp_path: Path) -> None:  # noqa: F811
    with _sim_for(paddy_plan) as s:
        # a vehicle with no key takes one over any link
        run_agrodrone("key", "create", "hex-1", "--connect", s.url, cwd=tmp_path)
        first = KeyStore().load("hex-1")
        signed = _upload(paddy_plan, s.url, tmp_path, "--drone", "hex-1")
        assert signed.returncode == 0, signed.stderr
        assert json.loads(signed.stdout)["signing"] == first.fingerprint
        # without the key, or with another drone's, nothing is sent: one error line
        unsigned = _upload(paddy_plan, s.url, tmp_path)
        assert unsigned.returncode == 2 and "signs its packets" in unsigned.stderr
        run_agrodrone("key", "create", "hex-2", cwd=tmp_path)
        other = _upload(paddy_plan, s.url, tmp_path, "--drone", "hex-2")
        assert other.returncode == 2 and "another key" in other.stderr and other.stderr.count("error:") == 1
        # a stranger's ground station gets no answer to anything
        assert stranger_attempts(s.url) == {"mode": None, "arm": None, "param": None, "upload": None}
        # rotate over the signed link: the old key no longer works, the new one does
        run_agrodrone("key", "rotate", "hex-1", "--connect", s.url, cwd=tmp_path)
        second = KeyStore().load("hex-1")
        assert second != first and KeyStore().get("hex-1", pending=True) is None
        assert _upload(paddy_plan, s.url, tmp_path, "--drone", "hex-1").returncode == 0
        # remove: signing off on the vehicle, the key forgotten
        run_agrodrone("key", "remove", "hex-1", "--connect", s.url, cwd=tmp_path)
        assert KeyStore().names() == ["hex-2"]
        assert _upload(paddy_plan, s.url, tmp_path).returncode == 0


def test_fly_signed_end_to_end_and_a_wrong_key_is_a_no_go(paddy_plan: Path, tmp_path: Path) -> None:  # noqa: F811
    store = KeyStore()
    key = SigningKey.generate()
    store.save("hex-1", key)
    store.save("hex-2", SigningKey.generate())
    db = tmp_path / "job.db"
    with _sim_for(paddy_plan, signing_key=key.secret) as s:
        wrong = run_agrodrone(
            "fly", str(paddy_plan), "--connect", s.url, "--db", str(db), "--drone", "hex-2", "--yes",
            cwd=tmp_path, check=False,
        )  # fmt: skip
        assert wrong.returncode == 2 and "no-go: signing" in wrong.stderr, wrong.stderr
        assert not any(smp.armed for smp in s.truth().samples)  # refused before take-off
        flown = run_agrodrone(
            "fly", str(paddy_plan), "--connect", s.url, "--db", str(db), "--drone", "hex-1", "--yes", cwd=tmp_path
        )
        truth = s.truth()
    assert f"signed both ways, key {key.fingerprint}" in flown.stdout.replace("\n", " ")
    (drone, sorties, volume) = db_rows(
        db, "SELECT f.drone_id, r.sorties, r.volume_l FROM spray_records r JOIN flights f ON f.job_id = r.job_id"
    )[0]
    assert drone == "hex-1" and sorties == 2
    assert volume == pytest.approx(truth.sprayed_l, rel=0.05)
    assert key.secret.hex() not in flown.stdout + flown.stderr
    assert key.secret not in db.read_bytes()


def test_log_checks_the_drones_key_and_refuses_a_vehicle_that_does_not_sign(tmp_path: Path) -> None:
    key = SigningKey.generate()
    KeyStore().save("hex-1", key)
    with start_sim(speedup=20, boot_delay_s=1, signing_key=key.secret) as s:
        logged = run_agrodrone(
            "log", "--connect", s.url, "--db", str(tmp_path / "a.db"), "--drone", "hex-1", "--duration", "4",
            cwd=tmp_path,
        )  # fmt: skip
        assert "messages logged" in logged.stdout
    with start_sim(speedup=20, boot_delay_s=1) as s:  # the key was never installed on this one
        refused = run_agrodrone(
            "--lang", "en", "log", "--connect", s.url, "--db", str(tmp_path / "b.db"), "--drone", "hex-1",
            "--duration", "60", "--quiet", cwd=tmp_path, check=False,
        )  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "not signed" in refused.stderr and not list(tmp_path.glob("b*"))  # no database, no tlog left
