"""Seed files: one URL a line, ``#`` comments and blank lines allowed.

Bad lines are reported with their line number and skipped; the rest are still crawled.
A file with no valid URL is an error for the caller (exit code 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from storage.names import HostNameError, parse_host

MAX_SEED_FILE_BYTES = 10 * 1024 * 1024


class SeedFileError(ValueError):
    """The seed file cannot be read at all; one line for the user."""


@dataclass
class SeedFile:
    urls: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One line each: ``FILE:LINE: problem``."""


def check_url(text: str) -> str:
    """A crawlable http(s) URL from ``text`` (a bare host gets https://); raises ValueError."""
    text = text.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"not a URL ({e})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme {parts.scheme!r} is not http or https")
    if not parts.hostname:
        raise ValueError("no host name")
    if any(c.isspace() for c in text):
        raise ValueError("contains white space")
    try:
        parse_host(parts.hostname)
    except HostNameError as e:
        raise ValueError(str(e)) from None
    if port == 0:
        raise ValueError("port 0")
    return text if parts.path else text + "/"


def read_seed_file(path: str | Path) -> SeedFile:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SEED_FILE_BYTES:
            raise SeedFileError(f"seed file {path}: larger than {MAX_SEED_FILE_BYTES // 1048576} MiB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SeedFileError(f"seed file {path}: not found") from None
    except IsADirectoryError:
        raise SeedFileError(f"seed file {path}: is a directory") from None
    except OSError as e:
        raise SeedFileError(f"seed file {path}: {e.strerror}") from None
    text = raw.decode("utf-8", errors="replace")
    out = SeedFile()
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        if "\ufffd" in line or "\x00" in line:
            out.problems.append(f"{path}:{number}: not UTF-8 text, skipped")
            continue
        try:
            url = check_url(line)
        except ValueError as e:
            out.problems.append(f"{path}:{number}: {line[:80]!r}: {e}, skipped")
            continue
        if url not in seen:
            seen.add(url)
            out.urls.append(url)
    return out
