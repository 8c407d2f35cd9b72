-- Fragment: a text column as a CSV field: quoted, quotes doubled; NULL as an empty field.
coalesce('"' || replace(r.$1, '"', '""') || '"', '')
