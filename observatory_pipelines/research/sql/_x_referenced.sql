-- Fragment: the id of the first X API v2 referenced tweet of type '$1' (replied_to, quoted) of
-- the record c (raw_metadata.referenced_tweets), NULL when there is none.
(SELECT x ->> 'id'
 FROM jsonb_array_elements(
     CASE WHEN jsonb_typeof(c.raw_metadata -> 'referenced_tweets') = 'array'
          THEN c.raw_metadata -> 'referenced_tweets' END) AS x
 WHERE x ->> 'type' = '$1' LIMIT 1)
