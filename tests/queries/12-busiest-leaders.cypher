// Who took part in the most events (any role), with WITH ... WHERE.
MATCH (p:Person)<-[r]-(e:Event)
WITH p, count(DISTINCT e) AS events
WHERE events >= 3
RETURN p.name AS person, events
ORDER BY events DESC, person
