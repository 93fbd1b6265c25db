"""The command line's language: Vietnamese first, English kept.

Messages are written in English in the code and translated through GNU gettext catalogs
(`agrodrone/locale/<lang>/LC_MESSAGES/agrodrone.po`, compiled to `.mo` by
`make translations`). The command line makes `agrodrone` the process's text domain, so
every `gettext` call answers from it: our packages' (`from gettext import gettext as _`)
and click's own ("Usage:", "Show this message and exit."). Help texts are English
msgids in the decorators; `translate_help` swaps them in before click prints anything.

The language is, first found: `--lang` on the command line, AGRODRONE_LANG, the locale
(LC_ALL, LC_MESSAGES, LANG: `en_*` gives English), and otherwise Vietnamese.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import click

DOMAIN = "agrodrone"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"


def choose_language(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language the user asked for (see the module docstring)."""
    for i, arg in enumerate(argv):
        value = (
            arg.split("=", 1)[1]
            if arg.startswith("--lang=")
            else (argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        )
        if value in LANGUAGES:
            return value
    explicit = environ.get("AGRODRONE_LANG", "").strip().lower()[:2]
    if explicit in LANGUAGES:
        return explicit
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        code = environ.get(var, "").strip().lower()
        if code and code not in ("c", "posix") and not code.startswith(("c.", "posix.")):
            return code[:2] if code[:2] in LANGUAGES else DEFAULT
    return DEFAULT


_active: str | None = None


def activate(lang: str) -> Callable[[], None]:
    """Make `lang` the language of every gettext call in this process; the returned
    function puts back what was there (a command's language lasts for that command)."""
    global _active
    before = (os.environ.get("LANGUAGE"), gettext.textdomain(), _active)
    os.environ["LANGUAGE"] = lang  # read by gettext at each lookup, before LC_ALL/LANG
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    _active = lang

    def restore() -> None:
        global _active
        language, domain, _active = before
        if language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = language
        gettext.textdomain(domain)

    return restore


def current() -> str:
    """The active language (the default of subcommands with their own --lang)."""
    return _active or choose_language([], os.environ)


def _translated(obj: object, attr: str) -> None:
    """obj.attr = its translation; the English original is kept, so a later call in
    another language (tests call main() again) starts from the msgid."""
    original = obj.__dict__.setdefault(f"_msgid_{attr}", getattr(obj, attr))
    if original:
        setattr(obj, attr, gettext.gettext(original))


def translate_help(command: click.Command) -> None:
    """Translate the help texts of `command` and everything below it, in place."""
    for attr in ("help", "short_help", "epilog"):
        _translated(command, attr)
    for param in command.params:
        if isinstance(param, click.Option):
            _translated(param, "help")
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            translate_help(sub)


def help_texts(command: click.Command) -> list[str]:
    """Every help text below `command` in English: the msgids `make translations` collects."""

    def original(obj: object, attr: str) -> str | None:
        return obj.__dict__.get(f"_msgid_{attr}", getattr(obj, attr))

    texts = [t for t in (original(command, a) for a in ("help", "short_help", "epilog")) if t]
    texts += [t for p in command.params if isinstance(p, click.Option) and (t := original(p, "help"))]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            texts += help_texts(sub)
    return texts
