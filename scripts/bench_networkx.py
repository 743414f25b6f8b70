"""NetworkX on a projection diplograph exported (`diplograph analyze ties --format csv`):
reads the edge list, builds the graph and runs one algorithm, printing the seconds each step
took. scripts/bench-analytics.sh runs it in a new process beside `diplograph analyze`.

usage: bench_networkx.py TIES.csv pagerank|louvain|betweenness [--directed] [--samples K]
"""

import csv
import sys
import time

import networkx as nx


def main() -> None:
    path, algorithm = sys.argv[1], sys.argv[2]
    directed = "--directed" in sys.argv
    samples = int(sys.argv[sys.argv.index("--samples") + 1]) if "--samples" in sys.argv else None
    started = time.perf_counter()
    graph = nx.DiGraph() if directed else nx.Graph()
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            graph.add_edge(row["source"], row["target"], weight=float(row["weight"]))
    loaded = time.perf_counter()
    if algorithm == "pagerank":
        nx.pagerank(graph, weight="weight")
    elif algorithm == "louvain":
        undirected = graph.to_undirected() if directed else graph
        nx.community.louvain_communities(undirected, weight="weight", seed=42)
    elif algorithm == "betweenness":
        nx.betweenness_centrality(graph, k=samples, seed=42)
    else:
        raise SystemExit(f"unknown algorithm {algorithm}")
    done = time.perf_counter()
    print(
        f"networkx {algorithm}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} ties; "
        f"load {loaded - started:.3f} s, compute {done - loaded:.3f} s"
    )


if __name__ == "__main__":
    main()
