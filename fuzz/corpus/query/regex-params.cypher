MATCH (n) WHERE n.name =~ '(?i)kim.*' AND NOT n:Article XOR n.id STARTS WITH 'p' RETURN DISTINCT labels(n), keys(n), properties(n), coalesce(n.title, $fallback)
