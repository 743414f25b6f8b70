// Which planned visits happened, and how long after: each plan (a planned visit, or an
// accepted invitation) with the visit that fulfilled it (FULFILLED_BY, derived by the store).
// An undated plan counts from its first report; months_later counts a missing month as January.
MATCH (plan:Event)-[:FULFILLED_BY]->(visit:Visit), (plan)-[:REPORTED_IN]->(a:Article)
WITH plan, visit, coalesce(plan.date, min(a.published)) AS planned
MATCH (visit)-[:VISITOR]->(who), (visit)-[:DESTINATION]->(d)
RETURN plan.type AS plan, who.name AS visitor, d.name AS destination, planned, visit.date AS happened,
       (toInteger(substring(visit.date, 0, 4)) * 12 + coalesce(toInteger(substring(visit.date, 5, 2)), 1))
       - (toInteger(substring(planned, 0, 4)) * 12 + coalesce(toInteger(substring(planned, 5, 2)), 1)) AS months_later
ORDER BY happened, visitor
