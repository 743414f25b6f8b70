MATCH (g:Gift)-[:GIVER]->(a), (g)-[:RECIPIENT]->(b), (g)-[:ITEM]->(i)
RETURN a.name AS giver, i.name AS item, b.name AS recipient
ORDER BY giver, item, recipient
