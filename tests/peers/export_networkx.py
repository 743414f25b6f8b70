"""Reads diplograph's GraphML and GEXF exports with NetworkX and reports what it sees as JSON.

Usage: export_networkx.py GRAPHML GEXF
"""
import json
import sys

import networkx as nx


def summary(graph):
    node_types = {}
    for _, data in graph.nodes(data=True):
        for key, value in data.items():
            node_types.setdefault(key, set()).add(type(value).__name__)
    edge_types = {}
    for _, _, data in graph.edges(data=True):
        for key, value in data.items():
            edge_types.setdefault(key, set()).add(type(value).__name__)
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "directed": graph.is_directed(),
        "node_attribute_types": {k: sorted(v) for k, v in node_types.items()},
        "edge_attribute_types": {k: sorted(v) for k, v in edge_types.items()},
        "nodes_with_start": sum(1 for _, d in graph.nodes(data=True) if "start" in d),
        "node_sample": {n: {k: v for k, v in d.items() if isinstance(v, (str, int, float, bool))}
                        for n, d in graph.nodes(data=True)},
    }


graphml = nx.read_graphml(sys.argv[1])
gexf = nx.read_gexf(sys.argv[2])
print(json.dumps({"graphml": summary(graphml), "gexf": summary(gexf)}))
