// Which visits are planned: visitor, destination, date.
MATCH (v:Visit {status: 'planned'})-[:VISITOR]->(who), (v)-[:DESTINATION]->(d)
RETURN who.name AS visitor, d.name AS destination, v.date AS date
ORDER BY visitor, destination
