SELECT id, email, display_name
FROM users
ORDER BY email, id
