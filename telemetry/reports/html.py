"""HTML building blocks: one self-contained page (inline CSS, images as data: URIs, no script)."""

from __future__ import annotations

from html import escape

CSS = """
:root { --ok: #2e7d32; --bad: #c62828; --muted: #666; --line: #d9d9d9; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 14px; color: #1d1d1d;
       margin: 0 auto; padding: 24px 28px 48px; max-width: 1180px; line-height: 1.4; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid #2e7d5b; padding-bottom: 3px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: var(--muted); margin: 2px 0; }
.meta b { color: #1d1d1d; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: #eef5f0; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.d0 td { font-weight: 600; background: #fafafa; }
td.i1 { padding-left: 20px; } td.i2 { padding-left: 36px; } td.i3 { padding-left: 52px; } td.i4 { padding-left: 68px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 10px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 9px 11px; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 19px; font-weight: 600; margin-top: 2px; }
.card .v.small { font-size: 14px; }
.share { white-space: nowrap; }
.bar { position: relative; display: inline-block; width: 70px; height: 12px; background: #eee; border-radius: 3px;
       vertical-align: middle; margin-right: 6px; }
.bar .fill { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 3px; background: var(--bad); }
.bar .fill.ok { background: var(--ok); }
.bar .fill.plain { background: #6a8caf; }
.bar .target { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #111; }
.card .bar { width: 100%; margin: 6px 0 0; }
.status-ok { color: var(--ok); font-weight: 600; } .status-bad { color: var(--bad); font-weight: 600; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; word-break: break-all; }
img.chart, img.map { max-width: 100%; height: auto; border: 1px solid var(--line); }
.job { break-inside: avoid; border-top: 1px solid var(--line); margin-top: 18px; }
.job-grid { display: grid; grid-template-columns: minmax(300px, 1fr) minmax(300px, 1fr); gap: 14px; }
.note { color: var(--muted); font-size: 12px; }
.warn { color: var(--bad); }
@media print { body { padding: 0; font-size: 11px; } h2 { break-after: avoid; } }
"""


def e(value) -> str:
    return escape("" if value is None else str(value))


def page(lang: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{e(title)}</title>\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def table(
    headers: list[tuple[str, bool]],
    rows: list[list[str]],
    *,
    row_classes: list[str] | None = None,
    cell_classes: list[list[str]] | None = None,
    table_id: str | None = None,
    row_keys: list[str] | None = None,
) -> str:
    """headers: (already escaped text, numeric?); rows hold already-escaped HTML."""
    head = "".join(f'<th class="n">{h}</th>' if num else f"<th>{h}</th>" for h, num in headers)
    body = []
    for k, row in enumerate(rows):
        rc = f' class="{row_classes[k]}"' if row_classes and row_classes[k] else ""
        if row_keys:
            rc += f' data-key="{e(row_keys[k])}"'
        cells = []
        for j, (cell, (_, num)) in enumerate(zip(row, headers)):
            cls = ["n"] if num else []
            if cell_classes and cell_classes[k][j]:
                cls.append(cell_classes[k][j])
            cells.append(f'<td class="{" ".join(cls)}">{cell}</td>' if cls else f"<td>{cell}</td>")
        body.append(f"<tr{rc}>{''.join(cells)}</tr>")
    tid = f' id="{e(table_id)}"' if table_id else ""
    return f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def progress(pct: float | None, target: float | None, label: str) -> str:
    """A bar filled to `pct` with a mark at `target`; green when the target is reached."""
    if pct is None:
        return e(label)
    width = max(0.0, min(100.0, pct))
    kind = "plain" if target is None else ("ok" if pct >= target else "bad")
    mark = f'<span class="target" style="left:{min(100.0, target):.1f}%"></span>' if target is not None else ""
    return (
        f'<span class="share"><span class="bar" data-pct="{pct:.1f}">'
        f'<span class="fill {kind}" style="width:{width:.1f}%"></span>'
        f"{mark}</span>{e(label)}</span>"
    )


def card(key: str, value: str, extra: str = "", *, small: bool = False) -> str:
    cls = "v small" if small else "v"
    return f'<div class="card"><div class="k">{e(key)}</div><div class="{cls}">{value}</div>{extra}</div>'
