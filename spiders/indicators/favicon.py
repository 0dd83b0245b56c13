"""The favicon hash Shodan indexes as ``http.favicon.hash``.

Shodan hashes the favicon's bytes base64-encoded the MIME way (``base64.encodebytes``:
a newline after every 76 characters and at the end) with MurmurHash3 x86 32-bit, seed 0,
read as a signed integer. The same hash on two sites is a strong hint of one operator
(or one piracy-site template).
"""

from __future__ import annotations

import base64

import mmh3


def favicon_mmh3(data: bytes) -> str:
    """Shodan's ``http.favicon.hash`` of the favicon bytes ``data``, as a decimal string."""
    return str(mmh3.hash(base64.encodebytes(data)))
