MATCH (a)-[*]-(b), (c) RETURN count(*)
