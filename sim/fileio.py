"""Write output files whole or not at all, never over a user's file unasked."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from .errors import InputError

Writer = Callable[[Path], None]
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def check_figure_path(path: Path, flag: str) -> None:
    """Raise InputError unless ``path`` ends in a figure format tumorsim writes."""
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise InputError(f"{flag}: {path} must end in one of {', '.join(FIGURE_SUFFIXES)}")


def check_writable(paths: list[Path], overwrite: bool, flag: str) -> None:
    """Raise InputError if an output exists (unless ``overwrite``) or its folder is missing."""
    for path in paths:
        if path.exists() and not overwrite:
            raise InputError(f"{flag}: {path} already exists; pass --force to replace it")
        if not path.parent.is_dir():
            raise InputError(f"{flag}: folder {path.parent} does not exist")


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_all(writers: Mapping[Path, Writer], overwrite: bool = False, flag: str = "output") -> None:
    """Write several files atomically as a group.

    Each writer fills a temporary file beside its target; only when all have
    succeeded are they renamed into place, so a failure leaves no partial file.
    """
    targets = [Path(p) for p in writers]
    check_writable(targets, overwrite, flag)
    temporaries: dict[Path, Path] = {}
    try:
        for target, writer in zip(targets, writers.values()):
            handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
            os.close(handle)
            temporaries[target] = Path(name)
            writer(Path(name))
        mode = _default_file_mode()
        for target, temporary in temporaries.items():
            os.chmod(temporary, mode)  # mkstemp makes owner-only files; give the user's usual permissions
            os.replace(temporary, target)
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)


def write_text(path: Path | str, text: str, overwrite: bool = False, flag: str = "output") -> None:
    """Write ``text`` to ``path`` atomically."""
    write_all({Path(path): lambda tmp: tmp.write_text(text, encoding="utf-8")}, overwrite, flag)
