// params: {"a": "Vladimir Putin", "b": "Kim Jong Un"}
// Meetings between two leaders, with place and date.
MATCH (a:Person {name: $a})<-[:PARTICIPANT]-(m:Meeting)-[:PARTICIPANT]->(b:Person {name: $b})
OPTIONAL MATCH (m)-[:PLACE]->(p)
RETURN m.date AS date, p.name AS place, m.status AS status
ORDER BY date
