// params: {"givers": ["Kim Jong Un", "Vladimir Putin"]}
// UNWIND over a list parameter of givers; gifts each gave, paged.
UNWIND $givers AS giver
MATCH (g:Gift)-[:GIVER]->(p {name: giver})
WITH giver, g ORDER BY g.date, g.id
RETURN giver, g.date AS date
SKIP 1 LIMIT 3
