-- A user named by id or by e-mail (case-insensitive); the id is compared as text, so any
-- string is a valid question and only a real match answers.
SELECT id, email, display_name
FROM users
WHERE id::text = lower(:ref) OR lower(email) = lower(:ref)
ORDER BY email
