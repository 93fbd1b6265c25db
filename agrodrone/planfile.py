"""Reading the plan.json that `agrodrone plan` wrote (a plan folder or the file itself)."""

from __future__ import annotations

from gettext import gettext as _

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
        raise UserError(_("{path}: no such plan file (give the folder `agrodrone plan --out` wrote)").format(path=p)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(_("{path}: not a readable plan.json ({reason})").format(path=p, reason=exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != "agrodrone-plan":
        raise UserError(_("{path}: not an agrodrone plan.json").format(path=p))
    return doc
