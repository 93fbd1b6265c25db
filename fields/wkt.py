"""Splitting a WKT file into its geometries (pure text handling, no I/O).

A `.wkt` file may hold several geometries, one after another, each optionally
prefixed by a PostGIS-style `SRID=nnnn;`. Shapely parses one geometry at a time, so
the text is cut at the closing parenthesis that balances each geometry's first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SRID = re.compile(r"SRID\s*=\s*(\d+)\s*;", re.IGNORECASE)
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z ]*")


@dataclass(frozen=True)
class WktChunk:
    """One geometry's text, the SRID written in front of it (if any) and its line number."""

    text: str
    srid: int | None
    line: int


class WktSyntaxError(ValueError):
    """The text cannot be cut into geometries; the message says where."""


def split_wkt(text: str) -> list[WktChunk]:
    """Cut WKT text into geometries; `#` starts a comment line."""
    text = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    chunks: list[WktChunk] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch in ",;":
            i += 1
            continue
        start_line = text.count("\n", 0, i) + 1
        srid = None
        m = _SRID.match(text, i)
        if m:
            srid = int(m.group(1))
            i = m.end()
            while i < n and text[i].isspace():
                i += 1
        m = _KEYWORD.match(text, i)
        if not m:
            raise WktSyntaxError(f"line {start_line}: expected a geometry type, found {text[i : i + 20]!r}")
        start = i
        i = m.end()
        if m.group(0).rstrip().upper().endswith("EMPTY"):
            chunks.append(WktChunk(text[start:i].strip(), srid, start_line))
            continue
        if i >= n or text[i] != "(":
            raise WktSyntaxError(f"line {start_line}: expected '(' after {m.group(0).strip()!r}")
        depth = 0
        while i < n:
            if text[i] == "(":
                depth += 1
            elif text[i] == ")":
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            i += 1
        if depth != 0:
            raise WktSyntaxError(f"line {start_line}: unbalanced parentheses")
        chunks.append(WktChunk(text[start:i], srid, start_line))
    return chunks
