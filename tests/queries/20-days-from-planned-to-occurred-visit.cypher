// Days from a planned visit (its own date, else the day an article reported the plan) to the
// visitor's first occurred visit to that place, or to a place located in it, on or after that day.
MATCH (plan:Visit {status: 'planned'})-[:VISITOR]->(who), (plan)-[:DESTINATION]->(dest),
      (plan)-[:REPORTED_IN]->(a:Article)
WITH who, dest, min(coalesce(date(plan.date), date(a.published))) AS planned
MATCH (trip:Visit {status: 'occurred'})-[:VISITOR]->(who), (trip)-[:DESTINATION]->(place)
WHERE (place = dest OR (place)-[:LOCATED_IN]->(dest)) AND date(trip.date) >= planned
WITH who, dest, planned, min(date(trip.date)) AS occurred
RETURN who.name AS visitor, dest.name AS destination, planned, occurred,
       duration.inDays(planned, occurred).days AS days
ORDER BY visitor, destination
