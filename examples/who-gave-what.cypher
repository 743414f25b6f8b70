// Who gave what to whom: every gift with its giver, item and recipient.
MATCH (g:Gift)-[:GIVER]->(a), (g)-[:RECIPIENT]->(b), (g)-[:ITEM]->(i)
RETURN a.name AS giver, i.name AS item, b.name AS recipient, g.date AS date
ORDER BY giver, item, recipient
