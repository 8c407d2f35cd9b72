"""Query designs written as files: a YAML format, its validation, and the sync into Postgres."""
