// Events per type: answered from the maintained counts (CountsFromStatistics) with
// indexes on, by scanning every event with them off; both must agree.
MATCH (e:Event)
RETURN e.type AS type, count(*) AS events, count(e) AS again
ORDER BY type
