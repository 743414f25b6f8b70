// Every spelling of Kim Jong Un the articles used resolves to one entity.
MATCH (p:Person)
WHERE 'Presiden Korea Utara Kim Jong Un' IN p.aliases OR toLower(p.name) = 'kim jong un'
RETURN p.id AS id, p.name AS name, size(p.aliases) >= 1 AS has_aliases
