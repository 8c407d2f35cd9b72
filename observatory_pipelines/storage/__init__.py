"""Object storage: one interface over MinIO/S3 and a local folder (plain Python, no Dagster)."""
