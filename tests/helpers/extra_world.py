"""The default sandbox world plus a few domains of a test's own (a copy, in a temporary folder)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

DEFAULT_WORLD = Path(__file__).resolve().parents[2] / "config" / "sandbox" / "default"


def extended_world(root: Path, domains: Mapping[str, str], pages: Mapping[str, str] | None = None) -> Path:
    """Copy the default world to ``root`` and add ``domains`` ({domain: its TOML}) and
    ``pages`` ({"host/path": HTML}); returns the world folder."""
    shutil.copytree(DEFAULT_WORLD, root)
    for domain, text in domains.items():
        (root / "domains" / f"{domain}.toml").write_text(text)
    for where, html in (pages or {}).items():
        path = root / "sites" / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html)
    return root


def registered(registrar: str = "NameCheap, Inc.", ip: str = "203.0.113.10") -> str:
    """A ``[registration]`` and ``[dns]`` block for a test domain."""
    return f'''
[registration]
registrar = "{registrar}"
created = "2024-01-01T00:00:00Z"
updated = "2025-01-01T00:00:00Z"
expires = "2027-01-01T00:00:00Z"
nameservers = ["dns1.registrar-servers.com", "dns2.registrar-servers.com"]
registrant_country = "IS"

[dns]
"@" = {{ A = ["{ip}"], NS = ["dns1.registrar-servers.com.", "dns2.registrar-servers.com."] }}
'''
