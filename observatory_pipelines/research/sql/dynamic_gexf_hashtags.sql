-- Time-sliced co-hashtag network: two hashtags of one record of the bucket.
WITH {{ dynamic_recent }},
{{ dynamic_cooccurrence(hashtags, hashtag) }}
