-- Co-shares: two accounts sharing the same object within the window (inclusive), each pair
-- of shares once (seq, from coordination_shares.sql, orders an object's shares). Pairwise
-- like CooRTweet, not CooRnet's fixed bins: shares 1 s apart are a pair wherever a bin edge
-- falls. Not a join of all of an object's shares with each other: shares are bucketed by
-- time (bucket width = the widest window), and a share meets only its own and the next
-- bucket — an equi-join, so the work grows with the pairs within reach, not with the square
-- of an object's shares.
-- :windows = {"<object_type>": seconds}; a pair with a news share (only when
-- :include_news_arenas) uses at least :news_window_s.
WITH windows AS (  -- reach_s: the widest window a pair of the type can have (the bucket width)
    SELECT key AS object_type,
           value::numeric AS window_s,
           CASE WHEN CAST(:include_news_arenas AS boolean)
                THEN greatest(value::numeric, CAST(:news_window_s AS numeric))
                ELSE value::numeric END AS reach_s
    FROM jsonb_each_text(CAST(:windows AS jsonb))
),
numbered AS (  -- only the columns read below: it is stored once and scanned twice
    SELECT s.object_type, s.object, s.account, s.record_id, s.shared_at, s.seq, s.is_news,
           w.window_s,
           floor(extract(epoch FROM s.shared_at) / w.reach_s)::bigint AS bucket
    FROM research_coord_shares AS s
    JOIN windows AS w USING (object_type)
    WHERE s.excluded IS NULL
      -- a share pairs only if its previous or next share of the object is within reach (a
      -- partner within reach is at least as far as that neighbour): the rest are not joined
      AND (s.sec_from_previous <= w.reach_s OR s.sec_to_next <= w.reach_s)
)
SELECT a.object_type,
       a.object,
       a.account AS account_a,
       b.account AS account_b,
       a.record_id AS record_a,
       b.record_id AS record_b,
       b.shared_at AS coshared_at,
       extract(epoch FROM b.shared_at - a.shared_at)::float8 AS delta_s
FROM numbered AS a
CROSS JOIN LATERAL (VALUES (a.bucket), (a.bucket + 1)) AS reach (bucket)
JOIN numbered AS b
  ON b.bucket = reach.bucket AND b.object COLLATE "C" = a.object AND b.object_type = a.object_type
WHERE b.seq > a.seq
  AND b.account <> a.account
  AND extract(epoch FROM b.shared_at - a.shared_at)
      <= CASE WHEN a.is_news OR b.is_news
              THEN greatest(a.window_s, CAST(:news_window_s AS numeric))
              ELSE a.window_s END
