-- Author–hashtag bipartite network: an author (pseudonym) and a hashtag they used; undirected;
-- weight = the author's records with the tag. Hashtag node ids are "tag:<tag>". A tag
-- repeated in a record counts once (its first position).
WITH {{ author_values(hashtags, tag, hashtag) }},
{{ interaction_edges }}
