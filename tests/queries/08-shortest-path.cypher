// How are Sergei Lavrov and Kim Jong Il connected?
MATCH (a:Person {name: 'Sergei Lavrov'}), (b:Person {name: 'Kim Jong Il'})
MATCH p = shortestPath((a)-[*..8]-(b))
RETURN length(p) AS hops, head(nodes(p)).name AS start, last(nodes(p)).name AS finish
