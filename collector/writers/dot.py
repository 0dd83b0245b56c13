"""An operator network (:func:`storage.clusters.network_of`) as a Graphviz DOT graph.

    net = network_of(session, "toonmoa101.com")
    Path("net.dot").write_text(to_dot(net))

The same picture as the HTML page (:mod:`collector.writers.network_html`), from the same nodes
and edges (:func:`collector.writers.network_graph.graph_of`): sites and the identifiers they
share, an edge dashed when weak. Every value is hostile: DOT strings are quoted and escaped
(:func:`dot_quote`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.writers.network_graph import KINDS, clean_text, graph_of, short


def dot_quote(value: Any) -> str:
    """A DOT double-quoted string on one line: backslashes and quotes escaped, line breaks
    (U+2028, U+2029 and NEL included) as ``\\n``, other control characters replaced."""
    text = clean_text(value).replace("\\", "\\\\").replace('"', '\\"')
    for brk in ("\r\n", "\r", "\x85", "\u2028", "\u2029"):
        text = text.replace(brk, "\n")
    text = text.replace("\n", "\\n").replace("\t", " ")
    return f'"{text}"'


def _dot_attrs(attrs: Mapping[str, Any]) -> str:
    return "[" + ", ".join(f"{k}={dot_quote(v)}" for k, v in attrs.items()) + "]"


def to_dot(net: Mapping[str, Any]) -> str:
    """The network as an undirected Graphviz graph (``dot -Tsvg``, ``neato``, ``sfdp``).

    Sites are boxes (the focus site a filled double circle), identifiers shaped and coloured
    by kind; each edge site -- identifier is labelled with the identifier's weight and dashed
    when weak. Every id, label and attribute value is a quoted, escaped string.
    """
    graph = graph_of(net)
    domain = str(net.get("domain") or "")
    cluster = net.get("cluster")
    caption = f"Operator network of {domain}" + (f" ({cluster})" if cluster else "")
    out = [
        "graph " + dot_quote("isop network") + " {",
        "  graph " + _dot_attrs({"label": caption, "labelloc": "t", "fontname": "Helvetica", "fontsize": "14",
                                 "overlap": "false", "splines": "true", "layout": "neato"}) + ";",
        "  node " + _dot_attrs({"fontname": "Helvetica", "fontsize": "10", "style": "filled",
                                "fontcolor": "#111827"}) + ";",
        "  edge " + _dot_attrs({"fontname": "Helvetica", "fontsize": "8", "color": "#6b7280",
                                "fontcolor": "#374151"}) + ";",
    ]
    for node in graph["nodes"]:
        kind = KINDS[node["kind"]]
        if node["type"] == "site":
            attrs: dict[str, Any] = {"label": node["value"], "shape": kind["dot"],
                                     "fillcolor": kind["color"] if node["focus"] else "#ffffff",
                                     "color": kind["color"], "tooltip": node["value"],
                                     "penwidth": "2.5" if node["focus"] else ("1.5" if node["member"] else "1")}
            if node["focus"]:
                attrs["fontcolor"] = "#ffffff"
            attrs["style"] = ",".join(["filled"] + (["rounded"] if kind["dot"] == "box" else [])
                                      + (["dashed"] if node["kind"] == "outside" else []))
        else:
            label = f"{node['type']}\n{short(node['value'], 40)}\n{node['sites']} sites"
            attrs = {"label": label, "shape": kind["dot"], "fillcolor": kind["color"] + "33",
                     "color": kind["color"], "fontsize": "9",
                     "tooltip": f"{node['type_label']}: {node['value']} (weight {node['weight']:.2f}, "
                                f"{node['sites']} sites)"}
        out.append(f"  {dot_quote(node['id'])} {_dot_attrs(attrs)};")
    for edge in graph["edges"]:
        label = f"{edge['weight']:.2f}" + (f" {short(edge['detail'], 30)}" if edge.get("detail") else "")
        attrs = {"label": label, "penwidth": f"{0.6 + 2.4 * min(1.0, edge['weight']):.2f}"}
        if not edge["joins"]:
            attrs["style"] = "dashed"
        out.append(f"  {dot_quote(edge['source'])} -- {dot_quote(edge['target'])} {_dot_attrs(attrs)};")
    out.append("}")
    return "\n".join(out) + "\n"
