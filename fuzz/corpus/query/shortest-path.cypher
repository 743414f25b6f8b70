MATCH p = shortestPath((a:Person {name: 'Kim Jong Un'})-[*..6]-(b:Place {name: 'Moscow'})) RETURN length(p), [n IN nodes(p) | n.id]
