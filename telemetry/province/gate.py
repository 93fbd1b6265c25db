"""The province's chain gate: every spray record that arrives is checked by the server itself.

A trigger recomputes the record's hash from its columns with the same canonical text
telemetry/records/chain.py hashes (built here in SQL, floats written as Python writes them),
and accepts the record only when it continues the chain head the province holds for its
cooperative; anything else is refused with SQLSTATE CHAIN_ERROR and a message naming it.
"""

from __future__ import annotations

import json
from gettext import gettext as _
from typing import Any

from telemetry.ingest.schema import RECORD_COLUMNS, RECORD_COLUMNS_V1
from telemetry.province.connect import SCHEMA
from telemetry.records.chain import HASHED_COLUMNS, LATE_COLUMNS

CHAIN_ERROR = "AG001"  # SQLSTATE the chain trigger raises: a record that does not continue the accepted chain


def chain_gate(conn: Any) -> None:
    """The canonical JSON of telemetry/records/chain.py in SQL, and the trigger that accepts a record only
    when its hash matches its content and it continues the cooperative's accepted chain."""
    s = SCHEMA
    # Python's repr(float) from PostgreSQL's round-trip digits (extra_float_digits >= 1). Those are not
    # always the shortest for large integral values, so with 16+ digits the shorter correctly rounded
    # ones (to_char, printf's rounding) are tried first, as Python picks the shortest that round-trips.
    conn.execute(f"""
CREATE FUNCTION {s}.float_digits(t text, OUT digits text, OUT decpt integer) LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE m text := t; e integer := 0; ip text; n integer;
BEGIN
  IF position('e' IN t) > 0 THEN e := split_part(t, 'e', 2)::integer; m := split_part(t, 'e', 1); END IF;
  ip := split_part(m, '.', 1);
  digits := ip || split_part(m, '.', 2);
  n := length(digits) - length(ltrim(digits, '0'));
  digits := rtrim(ltrim(digits, '0'), '0');
  decpt := length(ip) + e - n;
END $$""")
    conn.execute(f"""
CREATE FUNCTION {s}.py_float(x double precision) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT
SET extra_float_digits = 1 AS $$
DECLARE t text; c text; d record; n integer;
BEGIN
  IF x = 'NaN'::float8 OR x = 'Infinity'::float8 OR x = '-Infinity'::float8 THEN
    RAISE EXCEPTION 'not a finite number: %', x;
  END IF;
  t := abs(x)::text;
  d := {s}.float_digits(t);
  IF length(d.digits) >= 16 AND abs(x) < 1.7e308 THEN
    FOR n IN 15..length(d.digits) - 1 LOOP
      c := btrim(to_char(abs(x), '9.' || repeat('9', n - 1) || 'EEEE'));
      IF c::float8 = abs(x) THEN d := {s}.float_digits(c); EXIT; END IF;
    END LOOP;
  END IF;
  IF d.digits = '' THEN t := '0.0';
  ELSIF d.decpt > -4 AND d.decpt <= 16 THEN
    IF d.decpt <= 0 THEN t := '0.' || repeat('0', -d.decpt) || d.digits;
    ELSIF d.decpt >= length(d.digits) THEN t := d.digits || repeat('0', d.decpt - length(d.digits)) || '.0';
    ELSE t := left(d.digits, d.decpt) || '.' || substr(d.digits, d.decpt + 1);
    END IF;
  ELSE
    t := left(d.digits, 1) || CASE WHEN length(d.digits) > 1 THEN '.' || substr(d.digits, 2) ELSE '' END
         || 'e' || CASE WHEN d.decpt - 1 < 0 THEN '-' ELSE '+' END
         || lpad(abs(d.decpt - 1)::text, GREATEST(2, length(abs(d.decpt - 1)::text)), '0');
  END IF;
  RETURN CASE WHEN left(x::text, 1) = '-' THEN '-' || t ELSE t END;
END $$""")
    record_canonical(conn, [c for c in HASHED_COLUMNS if c in RECORD_COLUMNS_V1])
    accept_record(conn)
    conn.execute(
        f"CREATE TRIGGER accept_record AFTER INSERT ON {s}.spray_records "
        f"FOR EACH ROW EXECUTE FUNCTION {s}.accept_record()"
    )


def accept_record(conn: Any) -> None:
    """accept_record(): the trigger function. Its refusals say what is wrong in English (psql, the
    server's log) and, in DETAIL, as JSON that `chain_refusal` turns into the user's language."""
    s = SCHEMA
    conn.execute(f"""
CREATE OR REPLACE FUNCTION {s}.accept_record() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {s}, pg_temp AS $$
DECLARE head_len integer; head text; refusal text; prev text; head12 text;
BEGIN
  SELECT length, head_hash INTO head_len, head FROM {s}.chain_heads
   WHERE cooperative_id = NEW.cooperative_id FOR UPDATE;
  head_len := COALESCE(head_len, 0);
  IF NEW.chain_seq <> head_len + 1 THEN refusal := 'sequence';
  ELSIF NEW.prev_hash IS DISTINCT FROM head THEN refusal := 'link';
  ELSIF NEW.hash IS DISTINCT FROM encode(sha256(convert_to(COALESCE(NEW.prev_hash, '') || {s}.record_canonical(NEW),
                                                           'UTF8')), 'hex') THEN refusal := 'hash';
  END IF;
  IF refusal IS NOT NULL THEN
    prev := left(COALESCE(NEW.prev_hash, 'none'), 12);
    head12 := left(COALESCE(head, 'none'), 12);
    RAISE EXCEPTION USING ERRCODE = '{CHAIN_ERROR}',
      DETAIL = jsonb_build_object('refusal', refusal, 'cooperative', NEW.cooperative_id, 'seq', NEW.chain_seq,
                                  'job', NEW.job_id, 'accepted', head_len, 'prev', prev, 'head', head12)::text,
      MESSAGE = format('record %s #%s (job %s): ', NEW.cooperative_id, NEW.chain_seq, NEW.job_id) || CASE refusal
        WHEN 'sequence' THEN format('the province has accepted %s record(s) of %s, so the next one must be #%s',
                                    head_len, NEW.cooperative_id, head_len + 1)
        WHEN 'link' THEN format(
          'does not link to record #%s the province accepted (previous hash %s, accepted head %s)',
          head_len, prev, head12)
        ELSE 'its content does not match its hash (edited)' END;
  END IF;
  INSERT INTO {s}.chain_heads AS h VALUES (NEW.cooperative_id, NEW.chain_seq, NEW.hash, now(), NEW.received_by)
  ON CONFLICT (cooperative_id) DO UPDATE SET length = EXCLUDED.length, head_hash = EXCLUDED.head_hash,
    accepted_utc = EXCLUDED.accepted_utc, accepted_by = EXCLUDED.accepted_by;
  RETURN NULL;
END $$""")


def chain_refusal(exc: BaseException) -> str | None:
    """The chain trigger's refusal in the user's language, or None when `exc` is something else."""
    diag = getattr(exc, "diag", None)
    if getattr(exc, "sqlstate", None) != CHAIN_ERROR or diag is None:
        return None
    try:
        f = json.loads(diag.message_detail or "")
        label = _("record {coop} #{seq} (job {job})").format(coop=f["cooperative"], seq=f["seq"], job=f["job"])
        text = {
            "sequence": _("the province has accepted {n} record(s) of {coop}, so the next one must be #{next}"),
            "link": _(
                "does not link to record #{n} the province accepted (previous hash {prev}, accepted head {head})"
            ),
            "hash": _("its content does not match its hash (edited)"),
        }[f["refusal"]]
        facts = {"n": f["accepted"], "coop": f["cooperative"], "next": f["accepted"] + 1}
        return label + ": " + text.format(**facts, prev=f["prev"], head=f["head"])
    except (ValueError, KeyError, TypeError):
        return None  # an older server's refusal: its English text stands


def record_canonical(conn: Any, columns: list[str]) -> None:
    """record_canonical(r): the text telemetry/records/chain.py hashes, built in SQL. concat_ws
    skips NULL parts: a column of LATE_COLUMNS is left out while empty, as chain.canonical does."""
    s = SCHEMA
    parts = []
    for col in sorted(columns):
        kind = RECORD_COLUMNS[col]
        # + 0.0: no -0.0, as in telemetry/records/chain.py
        value = (
            f"{s}.py_float(r.{col} + 0.0)"
            if kind is float
            else f"r.{col}::text"
            if kind is int
            else f"to_json(r.{col})::text"
        )
        parts.append(
            f"'\"{col}\":' || {value}" if col in LATE_COLUMNS else f"'\"{col}\":' || COALESCE({value}, 'null')"
        )
    conn.execute(
        f"CREATE OR REPLACE FUNCTION {s}.record_canonical(r {s}.spray_records) RETURNS text LANGUAGE sql "
        f"STABLE AS $$ SELECT '{{' || concat_ws(',', {', '.join(parts)}) || '}}' $$"
    )


__all__ = ["CHAIN_ERROR", "accept_record", "chain_gate", "chain_refusal", "record_canonical"]
