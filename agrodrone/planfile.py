"""Reading the plan.json that `agrodrone plan` wrote (a plan folder or the file itself)."""

from __future__ import annotations

import json
from pathlib import Path

from agrodrone.errors import UserError


def plan_path(path: str | Path) -> Path:
    p = Path(path)
    return p / "plan.json" if p.is_dir() else p


def load_plan(path: str | Path) -> dict:
    """The plan dict; a missing or unreadable file is the user's mistake, said in one line."""
    p = plan_path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{p}: no such plan file (give the folder `agrodrone plan --out` wrote)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{p}: not a readable plan.json ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != "agrodrone-plan":
        raise UserError(f"{p}: not an agrodrone plan.json")
    return doc
