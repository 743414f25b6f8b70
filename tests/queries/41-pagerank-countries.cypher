// Which countries are central in the visits and meetings between them?
CALL algo.pageRank({level: 'country', eventTypes: ['Visit', 'Meeting'], directed: true}) YIELD node, score
RETURN node.name AS country, round(score * 1000) / 1000 AS score ORDER BY score DESC, country LIMIT 10
