"""An operator network (:func:`storage.clusters.network_of`) as nodes and edges, shared by its
two pictures (:mod:`collector.writers.network_html`, :mod:`collector.writers.dot`).

The sites, and the identifiers they share (wallets, analytics and ad accounts, contacts,
favicon hashes, certificates, nameserver sets, dedicated IPs) as nodes of their own, with an
edge from each site to each identifier it shares, labelled with the identifier's weight. An
edge is *weak* when every link it belongs to is below the clustering threshold
(``"joins": False``): the identifier ties the site to the network without putting it in.

Every value in a network was scraped or looked up and is hostile: :func:`clean_text` strips
control characters and bidi overrides before any writer escapes the text for its format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# --- kinds of nodes -----------------------------------------------------------------------

KINDS: dict[str, dict[str, str]] = {
    "focus": {"label": "The site asked about", "color": "#c2410c", "shape": "circle", "dot": "doublecircle"},
    "site": {"label": "Site in the network", "color": "#1d4ed8", "shape": "circle", "dot": "box"},
    "outside": {"label": "Site weakly linked (outside the network)", "color": "#94a3b8", "shape": "circle",
                "dot": "box"},
    "wallet": {"label": "Payment: wallet, PayPal", "color": "#b45309", "shape": "diamond", "dot": "diamond"},
    "analytics": {"label": "Analytics / ad account", "color": "#7c3aed", "shape": "hexagon", "dot": "hexagon"},
    "contact": {"label": "Contact: e-mail, Telegram, phone", "color": "#047857", "shape": "square",
                "dot": "ellipse"},
    "favicon": {"label": "Favicon hash", "color": "#be185d", "shape": "triangle", "dot": "triangle"},
    "certificate": {"label": "TLS certificate", "color": "#0e7490", "shape": "pentagon", "dot": "note"},
    "nameservers": {"label": "Nameserver set", "color": "#4b5563", "shape": "octagon", "dot": "folder"},
    "ip": {"label": "Dedicated IP address", "color": "#4d7c0f", "shape": "triangle-down", "dot": "cylinder"},
    "hop": {"label": "Hop: redirect, move notice, mirror", "color": "#9a3412", "shape": "diamond", "dot": "cds"},
    "other": {"label": "Other identifier", "color": "#6b7280", "shape": "circle", "dot": "ellipse"},
}
"""Node kinds: legend text, colour, shape in the HTML picture, shape in DOT."""

KIND_OF_TYPE: dict[str, str] = {
    "btc": "wallet", "eth": "wallet", "trx": "wallet", "xmr": "wallet", "paypal": "wallet",
    "ga": "analytics", "gtm": "analytics", "adsense": "analytics", "yandex_metrica": "analytics",
    "email": "contact", "telegram": "contact", "discord": "contact", "whatsapp": "contact", "phone": "contact",
    "favicon_mmh3": "favicon", "cert": "certificate", "cert_seen": "certificate", "nameservers": "nameservers", "ip": "ip",
    "hop": "hop", "numbered": "hop",
}

TYPE_LABELS: dict[str, str] = {
    "btc": "Bitcoin wallet", "eth": "Ethereum wallet", "trx": "Tron wallet", "xmr": "Monero wallet",
    "paypal": "PayPal account", "ga": "Google Analytics ID", "gtm": "Google Tag Manager ID",
    "adsense": "AdSense publisher ID", "yandex_metrica": "Yandex Metrica counter", "email": "E-mail address",
    "telegram": "Telegram", "discord": "Discord", "whatsapp": "WhatsApp", "phone": "Phone number",
    "favicon_mmh3": "Favicon hash (mmh3)", "cert": "TLS certificate (SHA-256)",
    "cert_seen": "TLS certificate not its own (SHA-256: a host's default, or a site only named in it)",
    "nameservers": "Nameserver set",
    "ip": "Dedicated IP address", "hop": "Hop (redirect, move notice, mirror)",
    "numbered": "Numbered successor (resolves)",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (not tab, newline, CR, NEL) and bidi overrides: a DOT file or page is also
printed on terminals (``isop network --format dot``), and an override reorders what is shown."""


def kind_of(identifier_type: str) -> str:
    """The node kind (a key of :data:`KINDS`) of an identifier type."""
    return KIND_OF_TYPE.get(identifier_type, "other")


def type_label(identifier_type: str) -> str:
    return TYPE_LABELS.get(identifier_type, identifier_type)


def clean_text(value: Any) -> str:
    """``value`` as text fit for a page or a DOT file: no control characters (tab and newline
    kept), lone surrogates replaced."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("\ufffd", text)


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


# --- the picture as nodes and edges -------------------------------------------------------


def graph_of(net: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Nodes (sites and identifiers) and site-identifier edges of ``net``.

    Node ids: ``site:<domain>`` and ``id:<type>:<value>``. An edge ``joins`` when at least
    one link it belongs to joins the network. Order is deterministic.
    """
    focus = str(net.get("domain") or "")
    members = [str(s) for s in net.get("sites") or ()]
    member_set = set(members)
    links = list(net.get("links") or ())
    site_links: dict[str, list[tuple[str, float, bool]]] = {d: [] for d in members}
    identifiers: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for link in links:
        a, b, joins = str(link["a"]), str(link["b"]), bool(link.get("joins"))
        strength = float(link.get("strength") or 0.0)
        site_links.setdefault(a, []).append((b, strength, joins))
        site_links.setdefault(b, []).append((a, strength, joins))
        for ident in link.get("identifiers") or ():
            itype, value = str(ident["type"]), str(ident["value"])
            node_id = f"id:{itype}:{value}"
            node = identifiers.setdefault(node_id, {
                "id": node_id, "kind": kind_of(itype), "type": itype, "type_label": type_label(itype),
                "value": value, "label": short(value, 28), "weight": float(ident.get("weight") or 0.0),
                "sites": int(ident.get("sites") or 0), "shown_sites": set(), "joins": False,
                "role": str(ident.get("kind") or "operator"), "detail": {}})
            node["shown_sites"].update((a, b))
            node["joins"] = node["joins"] or joins
            detail = ident.get("detail") if isinstance(ident.get("detail"), Mapping) else {}
            node["detail"].update({str(k): str(v) for k, v in detail.items()})
            for site in (a, b):
                edge = edges.setdefault((f"site:{site}", node_id), {
                    "source": f"site:{site}", "target": node_id, "weight": node["weight"], "joins": False,
                    "detail": str(detail.get(site) or "")})
                edge["joins"] = edge["joins"] or joins
    if focus:
        site_links.setdefault(focus, [])
    nodes: list[dict[str, Any]] = []
    for domain in sorted(site_links, key=lambda d: (d != focus, d not in member_set, d)):
        partners = sorted(site_links[domain], key=lambda p: (-p[1], p[0]))
        kind = "focus" if domain == focus else ("site" if domain in member_set else "outside")
        nodes.append({"id": f"site:{domain}", "kind": kind, "type": "site", "value": domain,
                      "label": domain, "member": domain in member_set, "focus": domain == focus,
                      "links": [{"site": p, "strength": s, "joins": j} for p, s, j in partners]})
    for node in sorted(identifiers.values(), key=lambda n: (-n["weight"], n["type"], n["value"])):
        node["shown_sites"] = sorted(node["shown_sites"])
        nodes.append(node)
    return {"nodes": nodes, "edges": sorted(edges.values(), key=lambda e: (e["source"], e["target"]))}
