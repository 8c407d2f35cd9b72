DROP FUNCTION IF EXISTS credit_reserve(uuid, uuid, varchar, varchar, varchar, integer, date, text);
DROP FUNCTION IF EXISTS credit_balance(uuid, date);
DROP FUNCTION IF EXISTS credit_lock_user(uuid);
