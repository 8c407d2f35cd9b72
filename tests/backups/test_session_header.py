"""The restore's header filter edits only the dump's leading session settings, and only those
the target server does not have."""

from __future__ import annotations

from observatory_pipelines.backups.session_header import HEADER_LIMIT, SessionHeaderFilter

HEADER = (
    b"--\n-- PostgreSQL database dump\n--\n\n\\restrict abcDEF123\n\n"
    b"-- Dumped from database version 16.2\n-- Dumped by pg_dump version 18.6\n\n"
    b"SET statement_timeout = 0;\nSET lock_timeout = 0;\n"
    b"SET idle_in_transaction_session_timeout = 0;\nSET transaction_timeout = 0;\n"
    b"SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n"
    b"SELECT pg_catalog.set_config('search_path', '', false);\n"
    b"SET check_function_bodies = false;\nSET row_security = off;\n\n"
)
# The body repeats the setting inside data: it must come through byte for byte.
BODY = (
    b"--\n-- Name: notes; Type: TABLE; Schema: public; Owner: -\n--\n\n"
    b"CREATE TABLE public.notes (body text);\n\n"
    b"COPY public.notes (body) FROM stdin;\nSET transaction_timeout = 0;\n\\.\n\n"
    b"\\unrestrict abcDEF123\n"
)
PG16_SETTINGS = {
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "client_encoding",
    "standard_conforming_strings",
    "search_path",
    "check_function_bodies",
    "row_security",
}


def _filtered(chunks: list[bytes], known: set[str]) -> tuple[bytes, list[str]]:
    header = SessionHeaderFilter(known)
    return b"".join(header(chunks)), header.skipped


def test_only_the_unknown_header_setting_is_skipped_and_the_data_is_untouched():
    out, skipped = _filtered([HEADER + BODY], PG16_SETTINGS)

    assert skipped == ["transaction_timeout"]
    assert b"\nSET transaction_timeout = 0;\n" not in out.split(b"CREATE TABLE")[0]
    assert b"-- skipped by restore (the target server has no such setting): " in out
    assert out.endswith(BODY)  # everything from the first object on, unchanged
    assert out.replace(b"-- skipped by restore (the target server has no such setting): ", b"") == (
        HEADER + BODY
    )


def test_a_header_split_across_chunks_is_filtered_the_same():
    whole = HEADER + BODY
    for size in (1, 7, 100):
        chunks = [whole[i : i + size] for i in range(0, len(whole), size)]
        assert _filtered(chunks, PG16_SETTINGS) == _filtered([whole], PG16_SETTINGS)


def test_a_target_that_knows_every_setting_gets_the_dump_unchanged():
    out, skipped = _filtered([HEADER + BODY], PG16_SETTINGS | {"transaction_timeout"})
    assert (out, skipped) == (HEADER + BODY, [])


def test_something_that_is_not_a_pg_dump_header_passes_unchanged():
    odd = b"SET transaction_timeout = 0;\n" + b"-" * (HEADER_LIMIT + 10)  # no end of header
    assert _filtered([odd], PG16_SETTINGS) == (odd, [])
    plain = b"CREATE TABLE t (x int);\nSET transaction_timeout = 0;\n"
    assert _filtered([plain], PG16_SETTINGS) == (plain, [])
