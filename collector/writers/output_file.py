"""Writing a command's ``--output FILE``: atomically for files, in place for everything else.

A regular file or a new path is written to ``FILE.partial`` (created afresh, never through a
link) and renamed over ``FILE`` when the writing succeeded, so a reader never sees half a
report and a failure leaves the old file as it was; the new file keeps the old one's
permission bits. Any other existing target — a symbolic link, a FIFO, a character device such
as ``/dev/stdout`` or a terminal — is opened and written in place: renaming over it would
replace the link or the device node with a regular file (as root, ``/dev/stdout`` itself). A
directory is refused with :class:`OutputError` (one line). ``-`` is standard output.

    with open_output(path, newline="") as out:
        writer(out)
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class OutputError(OSError):
    """The output cannot be written; the message is one line for the user."""


def _problem(path: str, e: OSError) -> OutputError:
    return OutputError(f"--output {path}: {e.strerror or e}")


@contextmanager
def open_output(path: str, newline: str | None = None) -> Iterator[TextIO]:
    """A UTF-8 text stream on ``path`` (see the module docstring); ``-`` yields stdout, not closed."""
    if path == "-":
        yield sys.stdout
        return
    target = Path(path)
    try:
        st = target.lstat()
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _problem(path, e) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"--output {path}: is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:  # a link, FIFO, device or socket: write where it leads, keep the node
            out = open(target, "w", encoding="utf-8", newline=newline)
        except OSError as e:
            raise _problem(path, e) from None
        with out:
            yield out
        return
    partial = target.with_name(target.name + ".partial")
    try:
        if partial.is_symlink() or partial.exists():
            partial.unlink()  # a stale partial (ours, or planted): never written through
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        if st is not None:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
        out = open(fd, "w", encoding="utf-8", newline=newline)
    except OSError as e:
        raise _problem(path, e) from None
    try:
        with out:
            yield out
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_output(path: str, text: str, newline: str | None = None) -> None:
    """Write ``text`` to ``path`` by :func:`open_output`; raises :class:`OutputError`."""
    try:
        with open_output(path, newline=newline) as out:
            out.write(text)
            if path == "-":
                out.flush()
    except OutputError:
        raise
    except OSError as e:
        raise _problem(path, e) from None
