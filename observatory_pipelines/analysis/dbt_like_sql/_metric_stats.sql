-- Fragment (not a model): one metric's summary as a jsonb object; $1 = column, $2 = output name.
-- Median and p95 come from one sort (percentile_cont over an array of fractions).
jsonb_build_object(
    'n', count(s.$1),
    'mean', round(avg(s.$1)::numeric, 2)::float8,
    'median', round(((percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY s.$1))[1])::numeric, 2)::float8,
    'p95', round(((percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY s.$1))[2])::numeric, 2)::float8,
    'max', max(s.$1)
) AS $2
