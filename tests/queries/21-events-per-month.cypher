// Events per month: events dated at least to the month, grouped by date.truncate('month', …).
// (A date given only as 'YYYY' would read as January, so those are left out, as are undated ones.)
MATCH (e:Event)
WHERE size(e.date) >= 7
WITH date.truncate('month', date(e.date)) AS month, count(*) AS events
RETURN left(toString(month), 7) AS month, events
ORDER BY month
