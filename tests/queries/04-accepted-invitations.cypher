// Accepted invitations.
MATCH (i:Invitation)-[:INVITER]->(a), (i)-[:INVITEE]->(b)
WHERE i.status = 'accepted'
OPTIONAL MATCH (i)-[:DESTINATION]->(d)
RETURN a.name AS inviter, b.name AS invitee, d.name AS destination
ORDER BY inviter, invitee, destination
