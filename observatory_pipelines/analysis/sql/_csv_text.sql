-- Fragment: a text column as a CSV field: quoted, quotes doubled; NULL as an empty field.
-- A value starting with = + - @ TAB or CR gets a leading ' so spreadsheets read it as text,
-- never as a formula (OWASP CSV injection rule; NDJSON and Parquet keep the raw value).
coalesce('"' || replace(
    CASE WHEN left(r.$1, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || r.$1
         ELSE r.$1 END,
    '"', '""') || '"', '')
