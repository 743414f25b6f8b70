// Every visit with its host, null where none was named.
MATCH (v:Visit)-[:VISITOR]->(who)
OPTIONAL MATCH (v)-[:HOST]->(h)
RETURN who.name AS visitor, v.date AS date, h.name AS host
ORDER BY date, visitor
