"""The enrichment services, in the order a run does them: what ``--only``, ``[[jobs]] only``
and the configuration check accept."""

from __future__ import annotations

SERVICES = ("dns", "hosting", "whois", "tls")
"""``dns`` (records of the domain and its hosts), ``hosting`` (ASN and network owner of
each address), ``whois`` (registration, RDAP or WHOIS), ``tls`` (certificates)."""
