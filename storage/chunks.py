"""Long ``IN (...)`` lists split into chunks, well under both databases' parameter limits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

IN_CHUNK = 5000
"""Values per ``IN (...)`` list."""


def chunks(values: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    """``values`` in lists of at most ``size`` (any iterable; sets in their own order)."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]
