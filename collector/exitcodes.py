"""Exit codes of the ``isop`` command, for cron and scripts to act on."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Done."""
    FAILURE = 1
    """The run failed (see the message and the run's recorded outcome)."""
    USAGE = 2
    """Bad usage or configuration: nothing was done."""
    LOCKED = 3
    """Another run of the same job holds its lock: nothing was done."""
