// Gifts per giver, counted from adjacency (NeighbourCounts) with indexes on and by
// building every row with them off; both must agree.
MATCH (g:Gift)-[:GIVER]->(p)
RETURN p.name AS giver, labels(p) AS kind, count(g) AS gifts, count(*) AS rows
ORDER BY gifts DESC, giver
