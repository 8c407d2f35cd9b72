-- Fragment (not a model): percentile_cont at position column $1 of a cumulative histogram
-- (columns value, upto = records up to and including value); lo + (pos - floor) * (hi - lo).
(min(p.value) FILTER (WHERE p.upto > floor(p.$1))::float8
 + (max(p.$1) - floor(max(p.$1)))
   * (min(p.value) FILTER (WHERE p.upto > ceil(p.$1))::float8
      - min(p.value) FILTER (WHERE p.upto > floor(p.$1))::float8))
