-- A design file's owner: a users row by e-mail (case-insensitive) or by id.
SELECT id
FROM users
WHERE lower(email) = lower(:owner)
   OR CAST(id AS text) = lower(:owner)
