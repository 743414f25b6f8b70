CREATE (n:Person {name: 'x'}) RETURN n
