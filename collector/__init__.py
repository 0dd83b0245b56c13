"""isop: an open-source intelligence collector for investigators of online piracy."""

from importlib.metadata import version

__version__ = version("isop")
"""The installed distribution's version (pyproject.toml is the one place it is written)."""
