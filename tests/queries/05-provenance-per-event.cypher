// Which outlets reported each meeting, and on whose word.
MATCH (m:Meeting)-[r:REPORTED_IN]->(a:Article)
RETURN m.id AS meeting, count(a) AS reports, collect(DISTINCT a.outlet) AS outlets
ORDER BY reports DESC, meeting
