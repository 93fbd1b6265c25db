"""Keep the translation catalogs in step with the code: `make translations`.

Collects every message (the help texts of the command tree, every `_("...")` in our
packages, and click's own words), merges them into each language's `.po` (new ones
untranslated, gone ones dropped) and compiles the `.mo` the program reads. Needs Babel,
a development dependency; the program itself only reads the `.mo` with the standard
library. `python -m agrodrone.catalog --check` fails when a message has no translation
or a `.mo` is older than its `.po` (the test suite runs the same check).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from agrodrone.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, help_texts

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agrodrone", "fields", "planner", "missions", "sim", "telemetry")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")  # English is the msgid
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def collect():
    """A Babel catalog of every msgid, each with where it comes from."""
    import click
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    from agrodrone.cli import cli

    catalog = Catalog(project="agrodrone", domain=DOMAIN)
    for text in help_texts(cli):
        catalog.add(text, locations=[("agrodrone/cli.py", 0)], auto_comments=["command-line help"])
    for package in PACKAGES:
        for filename, lineno, message, comments, _ctx in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if message:
                catalog.add(message, locations=[(f"{package}/{filename}", lineno)], auto_comments=comments)
    click_dir = Path(click.__file__).parent
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        click_dir, method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        if message:
            catalog.add(message, locations=[(f"click/{filename}", lineno)], flags=["click"])
    return catalog


def update() -> None:
    """Merge the collected messages into every .po and compile the .mo files."""
    from babel.messages.pofile import read_po, write_po

    template = collect()
    for lang in TRANSLATED:
        path = _po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                po = read_po(fh, locale=lang, domain=DOMAIN)
        else:
            from babel.messages.catalog import Catalog

            po = Catalog(locale=lang, domain=DOMAIN, project="agrodrone")
        po.update(template, no_fuzzy_matching=True)
        po.obsolete.clear()
        with path.open("wb") as fh:
            write_po(fh, po, width=100, sort_output=False, omit_header=False)
        compile_mo(lang)


def compile_mo(lang: str) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with _po_path(lang).open("rb") as fh:
        po = read_po(fh, locale=lang, domain=DOMAIN)
    with _po_path(lang).with_suffix(".mo").open("wb") as fh:
        write_mo(fh, po, use_fuzzy=False)


def problems() -> list[str]:
    """Messages without a translation, and .mo files that do not match their .po."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    found: list[str] = []
    wanted = [m.id for m in collect() if m.id and "click" not in m.flags]
    for lang in TRANSLATED:
        path = _po_path(lang)
        if not path.exists():
            return [f"{path}: missing; run `make translations`"]
        with path.open("rb") as fh:
            po = read_po(fh, locale=lang, domain=DOMAIN)
        for msgid in wanted:
            msg = po.get(msgid)
            if msg is None or not msg.string or msg.fuzzy:
                found.append(f"{lang}: no translation for {msgid[:70]!r}")
        compiled = io.BytesIO()
        write_mo(compiled, po, use_fuzzy=False)
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled.getvalue():
            found.append(f"{mo}: out of date; run `make translations`")
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report what is missing or stale")
    args = ap.parse_args(argv)
    if not args.check:
        update()
    issues = problems()
    for line in issues:
        print(line, file=sys.stderr)
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
