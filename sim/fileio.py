"""Write output files whole or not at all, never over a user's file unasked.

Every file a command writes is an ``Output``: a target path, a function that
fills a file, and the flag or argument that named it (for error messages).
``write_all`` takes all outputs of one command and

* refuses, before writing anything, a target that is not a regular file
  (a folder, a device, a symbolic link), two outputs with the same path, a
  missing folder, and an existing file unless ``overwrite`` is given;
* fills each output into a short-named temporary file beside its target;
* moves them into place only when every one is ready. Without ``overwrite`` a
  target is created with no-clobber semantics (a hard link, which fails if the
  name exists), so a concurrent writer loses cleanly; with ``overwrite`` the old
  file is kept as a hard-linked backup until all targets are in place, so a
  failure part-way restores every file as it was;
* turns write failures (a read-only folder, a full disk) into one-line
  ``InputError``\\s, and removes its temporary files on any exception,
  ``KeyboardInterrupt`` and the ``SystemExit`` the command line raises on
  SIGTERM included.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

Writer = Callable[[Path], None]
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
_TEMP_PREFIX = ".tumorsim-"
"""Temporary names are this prefix, 8 random characters and '.tmp': short whatever the target's name."""


@dataclass(frozen=True)
class Output:
    """One file a command writes: ``path``, the function that fills it, and the ``flag`` that named it."""

    path: Path
    write: Writer
    flag: str


def check_figure_path(path: Path, flag: str) -> None:
    """Raise InputError unless ``path`` ends in a figure format tumorsim writes."""
    if path.name.lower() in FIGURE_SUFFIXES:  # ".png" alone is a hidden file's name, not a suffix
        raise InputError(f"{flag}: {path} needs a file name before its suffix, for example figure{path.name}")
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise InputError(f"{flag}: {path} must end in one of {', '.join(FIGURE_SUFFIXES)}")


def check_targets(targets: Sequence[tuple[Path, str]], overwrite: bool) -> None:
    """Refuse, naming the flag, any target tumorsim must not write (see the module docstring)."""
    seen: dict[object, str] = {}
    for path, flag in targets:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise InputError(f"{flag}: cannot use {path}: {exc.strerror}") from None
        # the same file however it is reached: through a symbolic-linked folder, '..', or a hard link
        keys = [Path(os.path.realpath(path.parent if str(path.parent) else ".")) / path.name]
        if info is not None:
            keys.append((info.st_dev, info.st_ino))
        for key in keys:
            if key in seen:
                raise InputError(f"{flag}: {path} is also the output of {seen[key]}; give each output its own file")
            seen[key] = flag
        if info is not None:
            if not stat.S_ISREG(info.st_mode):
                kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a symbolic link" if stat.S_ISLNK(info.st_mode) \
                    else "not a regular file"
                raise InputError(f"{flag}: {path} is {kind}; tumorsim writes only regular files")
            if not overwrite:
                how = "--force" if flag.startswith("--") else "overwrite=True"
                raise InputError(f"{flag}: {path} already exists; pass {how} to replace it")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(f"{flag}: folder {parent} does not exist")


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _temporary(folder: Path, output: Output) -> Path:
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=_TEMP_PREFIX, suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{output.flag}: cannot write in {folder}: {_reason(exc)}") from None
    os.close(handle)
    return Path(name)


def _place_new(temporary: Path, output: Output) -> None:
    """Move ``temporary`` to a target that must not exist yet (no clobbering, even by a concurrent writer)."""
    try:
        os.link(temporary, output.path)
    except FileExistsError:
        raise InputError(f"{output.flag}: {output.path} was created by another program while tumorsim ran; "
                         "it was left as it is and nothing was written") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # a file system without hard links: claim the name exclusively, then fill it by rename
        try:
            os.close(os.open(output.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise InputError(f"{output.flag}: {output.path} was created by another program while tumorsim ran; "
                             "it was left as it is and nothing was written") from None
        os.replace(temporary, output.path)


def write_all(outputs: Sequence[Output], overwrite: bool = False) -> None:
    """Write every output of one command, all or none (see the module docstring)."""
    if not isinstance(overwrite, bool):
        raise InputError(f"overwrite must be True or False, not {overwrite!r:.40}")
    outputs = [Output(Path(o.path), o.write, o.flag) for o in outputs]
    check_targets([(o.path, o.flag) for o in outputs], overwrite)
    temporaries: list[Path] = []
    backups: dict[Path, Path] = {}
    placed: list[Path] = []
    current = outputs[0] if outputs else None
    try:
        for output in outputs:
            current = output
            temporary = _temporary(output.path.parent, output)
            temporaries.append(temporary)
            try:
                output.write(temporary)
            except OSError as exc:
                raise InputError(f"{output.flag}: cannot write {output.path}: {_reason(exc)}") from None
        mode = _default_file_mode()
        for output, temporary in zip(outputs, temporaries):
            current = output
            os.chmod(temporary, mode)  # mkstemp makes owner-only files; give the user's usual permissions
            # without overwrite a file that appeared since check_targets (a concurrent writer) is never replaced
            if overwrite and os.path.lexists(output.path):
                backup = _temporary(output.path.parent, output)
                backup.unlink()
                os.link(output.path, backup)
                backups[output.path] = backup
                os.replace(temporary, output.path)
            else:
                _place_new(temporary, output)
            placed.append(output.path)
    except BaseException as exc:
        for path in placed:  # put back what was there before this command
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and current is not None:
            raise InputError(f"{current.flag}: cannot write {current.path}: {_reason(exc)}; nothing was written") from None
        raise
    finally:
        for leftover in [*temporaries, *backups.values()]:
            leftover.unlink(missing_ok=True)



def table_outputs(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], meta: Any,
                  flag: str) -> list[Output]:
    """A CSV table at ``path`` and, beside it in ``<path>.meta.json``, ``meta`` (JSON: the parameters, seed and
    version that made it), as outputs for ``write_all``; ``rows`` is read when the CSV is written."""
    path = Path(path)

    def write_csv(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)

    text = json.dumps(meta, indent=2) + "\n"
    return [Output(path, write_csv, flag),
            Output(Path(f"{path}.meta.json"), lambda tmp: tmp.write_text(text, encoding="utf-8"), flag)]
