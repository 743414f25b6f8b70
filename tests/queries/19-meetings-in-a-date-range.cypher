// Meetings in a date range. date() reads an event's date at the precision the article gave:
// 'YYYY-MM-DD' as that day, 'YYYY-MM' as the first of the month, 'YYYY' as 1 January.
MATCH (m:Meeting)-[:PARTICIPANT]->(p:Person)
WHERE date(m.date) >= date('2023-01-01') AND date(m.date) < date('2025-01-01')
RETURN m.date AS date, p.name AS participant
ORDER BY date, participant
