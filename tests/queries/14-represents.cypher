// Leaders and the countries they represent, with titles.
MATCH (p:Person)-[r:REPRESENTS]->(c:Country)
RETURN p.name AS person, r.title AS title, c.name AS country
ORDER BY country, person
