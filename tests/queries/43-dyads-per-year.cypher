// How often did each pair of leaders meet, year by year?
CALL algo.dyads({eventTypes: ['Meeting'], period: 'year'}) YIELD a, b, period, events
RETURN a.name AS a, b.name AS b, period, events ORDER BY a, b, period
