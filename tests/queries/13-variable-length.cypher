// Places within 1..2 hops of the Vostochny meeting.
MATCH (m:Meeting {date: '2023-09-13'})-[*1..2]->(x:Country)
RETURN DISTINCT x.name AS country
