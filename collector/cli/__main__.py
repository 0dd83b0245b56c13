"""``python -m collector.cli``: the ``isop`` command, as the console script runs it."""

from __future__ import annotations

from collector.cli import main

if __name__ == "__main__":
    main()
