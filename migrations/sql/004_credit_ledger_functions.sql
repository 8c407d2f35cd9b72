-- The credit ledger's balance, per-user lock and reservation, defined once in the database.
-- credit_reserve does lock + check + insert in one statement, so when called outside an
-- explicit transaction the per-user lock is held only while the server works (plus the commit),
-- never across a client round trip.

-- Transaction-scoped lock serializing one user's credit writes (two-int form; the first key
-- keeps these apart from other advisory locks). Two users sharing the 32-bit key just wait.
CREATE FUNCTION credit_lock_user(p_user uuid) RETURNS void
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(202042647, ('x' || left(replace(p_user::text, '-', ''), 8))::bit(32)::int)
$$;

-- available = allocated - reserved - settled + refunded, allocations valid on p_today (a UTC date).
CREATE FUNCTION credit_balance(p_user uuid, p_today date)
RETURNS TABLE (allocated bigint, reserved bigint, settled bigint, refunded bigint, available bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.allocated, t.reserved, t.settled, t.refunded,
           a.allocated - t.reserved - t.settled + t.refunded
    FROM (
        SELECT COALESCE(sum(credits_amount), 0)::bigint AS allocated
        FROM credit_allocations
        WHERE user_id = p_user
          AND valid_from <= p_today
          AND (valid_until IS NULL OR valid_until >= p_today)
    ) AS a
    CROSS JOIN (
        SELECT COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'reservation'), 0)::bigint AS reserved,
               COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'settlement'), 0)::bigint AS settled,
               COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'refund'), 0)::bigint AS refunded
        FROM credit_transactions
        WHERE user_id = p_user
    ) AS t
$$;

-- outcome: 'reserved' | 'exists' (same key already reserved: existing_* tell by whom, how much)
--        | 'closed' (key already settled/refunded) | 'insufficient' (available tells how much).
-- Nothing is written unless the outcome is 'reserved'.
CREATE FUNCTION credit_reserve(
    p_user uuid, p_run uuid, p_arena varchar, p_platform varchar, p_tier varchar,
    p_credits integer, p_today date, p_description text
)
RETURNS TABLE (outcome text, available bigint, existing_credits integer, existing_user uuid)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_available bigint;
    v_existing integer;
    v_existing_user uuid;
    v_closed boolean;
BEGIN
    PERFORM credit_lock_user(p_user);
    -- Each statement below takes a fresh snapshot, so it sees every write committed before the lock.
    SELECT max(t.credits_consumed) FILTER (WHERE t.transaction_type = 'reservation'),
           (array_agg(t.user_id) FILTER (WHERE t.transaction_type = 'reservation'))[1],
           COALESCE(bool_or(t.transaction_type = 'refund'), false)
      INTO v_existing, v_existing_user, v_closed
      FROM credit_transactions AS t
     WHERE t.collection_run_id = p_run AND t.arena = p_arena AND t.platform = p_platform;
    IF v_closed THEN
        RETURN QUERY SELECT 'closed'::text, NULL::bigint, v_existing, v_existing_user;
        RETURN;
    END IF;
    IF v_existing IS NOT NULL THEN
        RETURN QUERY SELECT 'exists'::text, NULL::bigint, v_existing, v_existing_user;
        RETURN;
    END IF;
    SELECT b.available INTO v_available FROM credit_balance(p_user, p_today) AS b;
    IF v_available < p_credits THEN
        RETURN QUERY SELECT 'insufficient'::text, v_available, NULL::integer, NULL::uuid;
        RETURN;
    END IF;
    INSERT INTO credit_transactions (
        user_id, collection_run_id, arena, platform, tier, credits_consumed, transaction_type,
        description
    ) VALUES (p_user, p_run, p_arena, p_platform, p_tier, p_credits, 'reservation', p_description);
    RETURN QUERY SELECT 'reserved'::text, v_available - p_credits, NULL::integer, NULL::uuid;
END
$$;
