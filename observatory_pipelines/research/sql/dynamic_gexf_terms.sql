-- Time-sliced search-term network: two of the design's terms matched by one record of the
-- bucket.
WITH {{ dynamic_recent }},
{{ dynamic_cooccurrence(terms, term) }}
