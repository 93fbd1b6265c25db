"""Writing results so that a failure never leaves a half-written file behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from gettext import gettext as _
from pathlib import Path
from typing import Any

from agrodrone.errors import UserError


@contextmanager
def _writing(where: Path) -> Iterator[None]:
    """A folder or file we cannot write (read-only, a file in the way, disk full) is the
    user's to fix: one `error:` line, not a traceback."""
    try:
        yield
    except OSError as exc:
        raise UserError(_("{where}: cannot write ({reason})").format(where=where, reason=exc.strerror or exc)) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write a whole file or nothing: a temporary file in the same folder, then rename."""
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            extra: dict[str, Any] = {} if mode == "wb" else {"encoding": "utf-8"}
            with os.fdopen(fd, mode, **extra) as fh:
                fh.write(data)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def write_all(out_dir: str | Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write a set of result files together: all of them land, or none is touched.

    The files are staged in a temporary sibling folder first, so an error while
    producing any one of them leaves the previous contents of `out_dir` intact.
    """
    out_dir = Path(out_dir)
    with _writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".stage-", dir=out_dir))
    try:
        for name, data in files.items():
            write_atomic(stage / name, data)
        written = []
        with _writing(out_dir):
            for name in files:
                target = out_dir / name
                os.replace(stage / name, target)
                written.append(target)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)
