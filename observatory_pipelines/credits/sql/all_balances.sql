-- Every user's balance on :today (UTC date), most at risk first.
SELECT u.id AS user_id, u.display_name, b.allocated, b.reserved, b.settled, b.refunded, b.available
FROM users AS u
CROSS JOIN LATERAL credit_balance(u.id, CAST(:today AS date)) AS b
ORDER BY b.available ASC, u.id
