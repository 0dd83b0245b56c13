"""Installs the network guard in every Python process started with tests/guard on PYTHONPATH."""

import netguard

netguard.install()
