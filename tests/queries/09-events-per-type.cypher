// How many events of each type, and how many of them were reported more than once.
MATCH (e:Event)-[:REPORTED_IN]->(a:Article)
WITH e, count(a) AS reports
RETURN e.type AS type, count(e) AS events, sum(CASE WHEN reports > 1 THEN 1 ELSE 0 END) AS corroborated
ORDER BY type
