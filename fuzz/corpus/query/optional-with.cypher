MATCH (e:Event) OPTIONAL MATCH (e)-[r:REPORTED_IN]->(a:Article)
WITH e, count(r) AS reports, collect(DISTINCT a.outlet) AS outlets WHERE reports > 1
RETURN e.type, e.date, reports, outlets ORDER BY reports DESC, e.date SKIP 1 LIMIT 5
