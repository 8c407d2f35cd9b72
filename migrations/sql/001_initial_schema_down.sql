-- Reverse FK order; partitions go with their parent.
DROP TABLE IF EXISTS content_records CASCADE;
DROP TABLE IF EXISTS credit_transactions;
DROP TABLE IF EXISTS collection_tasks;
DROP TABLE IF EXISTS collection_runs;
DROP TABLE IF EXISTS actor_list_members;
DROP TABLE IF EXISTS actor_lists;
DROP TABLE IF EXISTS search_terms;
DROP TABLE IF EXISTS query_designs;
DROP TABLE IF EXISTS actor_platform_presences;
DROP TABLE IF EXISTS actor_aliases;
DROP TABLE IF EXISTS actors;
DROP TABLE IF EXISTS api_credentials;
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS credit_allocations;
DROP TABLE IF EXISTS users;
