// Counts by a counted property, and a plain label count, both from statistics.
MATCH (e:Event)
RETURN e.status AS status, count(e) AS events
ORDER BY events DESC, status
UNION ALL
MATCH (a:Article)
RETURN 'articles' AS status, count(*) AS events
