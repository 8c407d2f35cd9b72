-- CooRnet's coordination interval (estimate_coord_interval), per object type, over the
-- shares that are paired: rank each object's shares by time; the delay of each object's
-- second share; keep the objects whose delay is at most the :q quantile of those delays;
-- for each, the time from its first share to its first share ranked above :p of its total;
-- the interval is the :p quantile of those times. Quantiles interpolate linearly (R's
-- default, which CooRnet used). 0 s becomes 1 s in Python; no object shared twice: no estimate.
-- The ranks are the shares' seq (coordination_shares.sql; ties in time ordered by account,
-- which changes no figure here: the k-th share's time is the same whichever tied share is k-th).
WITH ranked AS (
    SELECT object_type, object, seq AS rank, sec_from_first
    FROM research_coord_shares
    WHERE excluded IS NULL
),
second AS (
    SELECT object_type, object, sec_from_first FROM ranked WHERE rank = 2
),
quickest AS (
    SELECT object_type,
           percentile_cont(CAST(:q AS float8)) WITHIN GROUP (ORDER BY sec_from_first::float8)
               AS cut,
           count(*) AS objects
    FROM second
    GROUP BY object_type
),
quick AS (  -- the quickest objects' shares, each with its object's number of them (n)
    SELECT r.object_type, r.object, r.rank, r.sec_from_first,
           max(r.rank) OVER (PARTITION BY r.object_type, r.object) AS n
    FROM ranked AS r
    JOIN second AS s USING (object_type, object)
    JOIN quickest AS q USING (object_type)
    WHERE s.sec_from_first <= q.cut
),
reach AS (
    SELECT k.object_type, k.object, min(k.sec_from_first) AS seconds
    FROM quick AS k
    WHERE k.rank::float8 / k.n > CAST(:p AS float8)
    GROUP BY k.object_type, k.object
)
SELECT q.object_type,
       q.objects AS objects_shared_twice,
       count(r.object) AS quickest_objects,
       percentile_cont(CAST(:p AS float8)) WITHIN GROUP (ORDER BY r.seconds::float8)
           AS estimated_s
FROM quickest AS q
LEFT JOIN reach AS r USING (object_type)
GROUP BY q.object_type, q.objects
ORDER BY q.object_type
