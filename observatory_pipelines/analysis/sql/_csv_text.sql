-- Fragment: a text column for the CSV export, whose COPY (FORMAT csv, FORCE_QUOTE ...) quotes
-- it and doubles its quotes (NULL stays an empty, unquoted field). A value starting with
-- = + - @ TAB or CR gets a leading ' so spreadsheets read it as text, never as a formula
-- (OWASP CSV injection rule; NDJSON and Parquet keep the raw value). ascii() reads the first
-- character without building a substring.
CASE WHEN ascii(r.$1) IN (61, 43, 45, 64, 9, 13) THEN '''' || r.$1 ELSE r.$1 END
