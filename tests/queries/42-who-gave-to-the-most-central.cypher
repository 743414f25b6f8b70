// Results are nodes, so they compose: the gifts received by the most central leader.
CALL algo.pageRank({eventTypes: ['Meeting', 'Gift', 'Visit']}) YIELD node, score
WITH node ORDER BY score DESC, node.name LIMIT 1
MATCH (g:Gift)-[:RECIPIENT]->(node), (g)-[:GIVER]->(giver), (g)-[:ITEM]->(item)
RETURN node.name AS central, giver.name AS giver, item.name AS item ORDER BY giver, item
