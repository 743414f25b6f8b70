"""Recomputes diplograph's analytics with NetworkX on the same projection.

Reads a JSON list of documents (argv[1]), each holding a projection (nodes, ties, directed) and
diplograph's results (pagerank, betweenness, components, louvain partition and modularity),
and prints a JSON list of reports of NetworkX's figures and the largest differences. The Rust test
(tests/analytics.rs) decides what passes.
"""

import json
import sys

import networkx as nx


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = json.load(f)
    print(json.dumps([compare(doc) for doc in docs]))


def compare(doc: dict) -> dict:
    graph = nx.DiGraph() if doc["directed"] else nx.Graph()
    graph.add_nodes_from(doc["nodes"])
    for source, target, weight in doc["ties"]:
        graph.add_edge(source, target, weight=weight)

    pagerank = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-10, max_iter=1000)
    betweenness = nx.betweenness_centrality(graph, normalized=True)
    if doc["directed"]:
        components = list(nx.weakly_connected_components(graph))
        undirected = nx.Graph()
        undirected.add_nodes_from(graph.nodes)
        for a, b, data in graph.edges(data=True):
            w = data["weight"]
            if undirected.has_edge(a, b):
                undirected[a][b]["weight"] += w
            else:
                undirected.add_edge(a, b, weight=w)
    else:
        components = list(nx.connected_components(graph))
        undirected = graph

    ours = doc["louvain"]
    by_community = {}
    for node, community in ours.items():
        by_community.setdefault(community, set()).add(node)
    our_partition_q = nx.community.modularity(undirected, list(by_community.values()), weight="weight")
    theirs = nx.community.louvain_communities(undirected, weight="weight", seed=42)
    their_q = nx.community.modularity(undirected, theirs, weight="weight")

    # Components as the sets of nodes they hold, compared without their numbering.
    our_components = {}
    for node, component in doc["components"].items():
        our_components.setdefault(component, set()).add(node)
    same_components = sorted(map(sorted, our_components.values())) == sorted(map(sorted, components))

    constraint = nx.constraint(graph, weight="weight")
    ours_constraint = doc["constraint"]
    constraint_diff = max(
        (abs(constraint[n] - ours_constraint[n]) for n in graph.nodes if ours_constraint.get(n) is not None),
        default=0.0,
    )
    constraint_missing = sorted(n for n in graph.nodes if ours_constraint.get(n) is None) != sorted(
        n for n in graph.nodes if graph.degree(n) == 0
    )

    report = {
        "constraint_max_diff": constraint_diff,
        "constraint_missing_differs": constraint_missing,
        "nodes": graph.number_of_nodes(),
        "ties": graph.number_of_edges(),
        "pagerank_max_diff": max(abs(pagerank[n] - doc["pagerank"][n]) for n in graph.nodes),
        "betweenness_max_diff": max(abs(betweenness[n] - doc["betweenness"][n]) for n in graph.nodes),
        "components": len(components),
        "same_components": same_components,
        "our_modularity": doc["modularity"],
        "networkx_modularity_of_our_partition": our_partition_q,
        "networkx_louvain_modularity": their_q,
    }
    return report


if __name__ == "__main__":
    main()
