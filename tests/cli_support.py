"""Running the agrodrone command line in-process, as a user would call it."""

from __future__ import annotations

import pytest

from agrodrone.cli import main


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `agrodrone ARGV`; main() always exits."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err
