// The schema procedures users try first: labels with their counts, from the statistics.
CALL db.labels() YIELD label, nodeCount
RETURN label, nodeCount ORDER BY label
