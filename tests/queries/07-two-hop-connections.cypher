// Who is two events away from Kim Jong Il (variable-length walk over role edges).
MATCH (k:Person {name: 'Kim Jong Il'})<-[:PARTICIPANT|VISITOR|HOST]-(e)-[:PARTICIPANT|VISITOR|HOST|GIVER|RECIPIENT]->(x:Person)
WHERE x <> k
RETURN DISTINCT x.name AS person
ORDER BY person
