"""Pointing an existing isop config at a running sandbox: only its ``[network]`` ports change.

``isop sandbox serve --config FILE`` uses this so a store built earlier (the demo's, a
course's) can be worked on again: the world comes back on new ports, the config's
``[network] proxy``, ``resolvers`` and ``ca_bundle`` follow it, and every other line of the
file (the store, evidence, jobs, comments) stays as the analyst left it.
"""

from __future__ import annotations

import re

NETWORK_KEYS = ("proxy", "resolvers", "ca_bundle")
_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def network_lines(proxy: str, resolvers: list[str], ca_bundle: str) -> list[str]:
    return [f"proxy = {_toml_str(proxy)}",
            f"resolvers = [{', '.join(_toml_str(r) for r in resolvers)}]",
            f"ca_bundle = {_toml_str(ca_bundle)}"]


def with_network(text: str, proxy: str, resolvers: list[str], ca_bundle: str) -> str:
    """``text`` (an isop TOML config) with its ``[network]`` proxy, resolvers and CA bundle
    replaced (added where missing); nothing else changes."""
    lines = text.splitlines()
    out: list[str] = []
    section: str | None = None
    skipping_array = False
    seen_network = False
    for line in lines:
        if skipping_array:  # the rest of a multi-line value being replaced
            if "]" in line.split("#", 1)[0]:
                skipping_array = False
            continue
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("[["):
            section = header.group(1).strip()
            out.append(line)
            if section == "network":
                seen_network = True
                out.extend(network_lines(proxy, resolvers, ca_bundle))
            continue
        if header:  # an array of tables ([[jobs]])
            section = None
            out.append(line)
            continue
        key = _KEY.match(line)
        if section == "network" and key and key.group(1) in NETWORK_KEYS:
            value = line.split("=", 1)[1].split("#", 1)[0]
            if "[" in value and "]" not in value:
                skipping_array = True
            continue
        out.append(line)
    if not seen_network:
        out += ["", "[network]", *network_lines(proxy, resolvers, ca_bundle)]
    return "\n".join(out) + "\n"
