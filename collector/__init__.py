"""isop: an open-source intelligence collector for investigators of online piracy."""

__version__ = "0.1.0"
