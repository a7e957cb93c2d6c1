-- requester_aliases: every id, e-mail, name and employee number a tool showed for a
-- grain: (requester_id, source, alias, kind)
-- requester (CONTRACT "Who a requester is"), one row per (requester_id, source, alias,
-- kind), with how the requester was matched to the people file: the best way any of
-- its identities was matched (email, employee_id, person_id, alias, name; else
-- ambiguous or unmatched). A view over requester_identities (dashboard/derive/identity.py),
-- so it never disagrees with the identities tickets and survey responses point at.
SELECT requester_id, source, alias, kind,
    min_by(matched_by, CASE matched_by WHEN 'email' THEN 1 WHEN 'employee_id' THEN 2
        WHEN 'person_id' THEN 3 WHEN 'alias' THEN 4 WHEN 'name' THEN 5
        WHEN 'ambiguous' THEN 8 ELSE 9 END) AS matched_by
FROM (
    SELECT requester_id, source, email AS alias, 'email' AS kind, matched_by
    FROM requester_identities WHERE email IS NOT NULL
    UNION ALL SELECT requester_id, source, tool_id, 'tool_id', matched_by
    FROM requester_identities WHERE tool_id IS NOT NULL
    UNION ALL SELECT requester_id, source, name, 'name', matched_by
    FROM requester_identities WHERE name IS NOT NULL
    UNION ALL SELECT requester_id, source, employee_id, 'employee_id', matched_by
    FROM requester_identities WHERE employee_id IS NOT NULL
) AS a
GROUP BY requester_id, source, alias, kind
