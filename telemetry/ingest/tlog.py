"""The `.tlog` format MAVProxy, QGroundControl and Mission Planner write.

Each record is an 8-byte big-endian timestamp (microseconds since the Unix epoch)
followed by one raw MAVLink 1 or 2 frame. The scanner frames the stream itself so it
can skip corrupt bytes (counted, never fatal) and decode only the message types the
database keeps; every frame of interest is CRC-checked by pymavlink.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pymavlink.dialects.v20 import ardupilotmega as mavlink

_TS = struct.Struct(">Q")
# Plausible receive times: 2000-01-01 .. 2100-01-01 (rejects random bytes as timestamps).
TS_MIN = 946_684_800_000_000
TS_MAX = 4_102_444_800_000_000
V1, V2 = 0xFE, 0xFD


class TlogWriter:
    """Appends records to a .tlog; readable by MAVExplorer, UAV Log Viewer and mavlogdump."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO = open(self.path, "ab")

    def write(self, t_us: int, frame: bytes) -> None:
        self._fh.write(_TS.pack(t_us) + frame)

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def frame_length(buf: bytes | memoryview, i: int) -> int:
    """Length of the MAVLink frame at buf[i] (0 if it does not start with a magic byte)."""
    magic = buf[i]
    if magic == V2:
        n = 12 + buf[i + 1]
        return n + 13 if buf[i + 2] & 0x01 else n  # signed frames carry a 13-byte signature
    if magic == V1:
        return 8 + buf[i + 1]
    return 0


def frame_msgid(buf: bytes | memoryview, i: int) -> int:
    if buf[i] == V2:
        return buf[i + 7] | (buf[i + 8] << 8) | (buf[i + 9] << 16)
    return buf[i + 5]


@dataclass
class ScanStats:
    messages: int = 0  # well-formed records
    skipped_bytes: int = 0  # bytes that were not part of a record (corruption, truncation)
    bad_crc: int = 0


def _record_at(buf: bytes, i: int, end: int) -> int:
    """Length of a plausible record (timestamp + frame) at i, or 0."""
    if i + 9 > end:
        return 0
    ts = _TS.unpack_from(buf, i)[0]
    if not TS_MIN <= ts <= TS_MAX:
        return 0
    if buf[i + 8] not in (V1, V2) or i + 11 > end:
        return 0
    n = frame_length(buf, i + 8)
    return 8 + n if i + 8 + n <= end else 0


def scan(data: bytes, wanted: set[int], stats: ScanStats | None = None) -> Iterator[tuple[int, object]]:
    """Yield (t_us, decoded message) for each record whose msgid is in `wanted`.

    A record is accepted when its frame decodes with a valid CRC (wanted types) or
    when the next record starts where it ends (other types: framing confirmed without
    decoding). Anything else is one skipped byte and a resync.
    """
    stats = stats if stats is not None else ScanStats()
    mav = mavlink.MAVLink(None)
    mav.robust_parsing = True
    decode = mav.decode
    unpack_ts = _TS.unpack_from
    end = len(data)
    i = 0
    while i < end:
        n = _record_at(data, i, end)
        if n == 0:
            i += 1
            stats.skipped_bytes += 1
            continue
        j = i + 8
        msgid = frame_msgid(data, j)
        if msgid in wanted:
            try:
                msg = decode(bytearray(data[j : j + n - 8]))
            except Exception:  # CRC or length mismatch: corrupt, resync one byte on
                stats.bad_crc += 1
                stats.skipped_bytes += 1
                i += 1
                continue
            stats.messages += 1
            yield unpack_ts(data, i)[0], msg
        else:
            nxt = i + n
            if nxt != end and _record_at(data, nxt, end) == 0 and not _crc_ok(data, j, n - 8):
                i += 1
                stats.skipped_bytes += 1
                continue
            stats.messages += 1
        i += n


def _crc_ok(data: bytes, j: int, n: int) -> bool:
    """CRC check of an undecoded frame (only when framing could not be confirmed otherwise)."""
    from pymavlink.generator.mavcrc import x25crc

    msgid = frame_msgid(data, j)
    extra = mavlink.mavlink_map[msgid].crc_extra if msgid in mavlink.mavlink_map else None
    if extra is None:
        return False
    hdr = 10 if data[j] == V2 else 6
    payload_end = j + hdr + data[j + 1]
    crc = x25crc(bytes(data[j + 1 : payload_end]))
    crc.accumulate(bytes([extra]))
    return crc.crc == (data[payload_end] | (data[payload_end + 1] << 8))
