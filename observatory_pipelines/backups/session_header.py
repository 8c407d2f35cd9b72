"""Restoring a dump made by a newer pg_dump: drop header settings the target does not have.

Every plain-format dump starts with a fixed block of session settings that
pg_dump writes for a server of its own version, whatever server it dumped::

    SET statement_timeout = 0;
    SET transaction_timeout = 0;      -- pg_dump 17+; PostgreSQL 16 and older reject it
    SET client_encoding = 'UTF8';
    SELECT pg_catalog.set_config('search_path', '', false);
    ...

``pg_restore`` cannot help: pg_restore 18 connected to PostgreSQL 16 writes the
same block (it is not a table-of-contents entry, so ``--use-list`` cannot drop
it) and fails the same way. So the restore filters, narrowly:

- only the **header** (the lines before the first object: blank lines,
  ``--`` comments, psql's ``\\restrict``, ``SET`` and ``set_config`` lines;
  at most ``HEADER_LIMIT`` bytes), never the data or any later statement;
- only ``SET <name> = <value>;`` lines whose ``<name>`` the target server does
  not know (not in its ``pg_settings``; dotted extension settings are left
  alone, the server accepts those as placeholders). They exist to switch off
  a feature the older server does not have, so skipping them changes nothing
  there. Each skipped line becomes a comment and is logged.

A dump made by a pg_dump matching the server never triggers the filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

HEADER_LIMIT = 64 * 1024
_SET_LINE = re.compile(rb"^SET ([A-Za-z_][A-Za-z0-9_]*) = [^;\n]*;$")
_HEADER_LINE = re.compile(
    rb"^(|--.*|\\restrict \S+|SET [^\n]*;|SELECT pg_catalog\.set_config\([^\n]*\);)$"
)


def known_settings(conn) -> set[str]:
    """Names of every parameter of the server behind ``conn`` (a psycopg connection)."""
    return {name for (name,) in conn.execute("SELECT name FROM pg_settings").fetchall()}


class SessionHeaderFilter:
    """Wraps the decompressed dump; ``skipped`` lists the settings left out."""

    def __init__(self, known: set[str]):
        self.known = {name.lower() for name in known}
        self.skipped: list[str] = []

    def __call__(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        chunks = iter(chunks)
        head = bytearray()
        for chunk in chunks:
            head += chunk
            end = self._header_end(head)
            if end is not None:
                yield self._filter(bytes(head[:end])) + bytes(head[end:])
                break
            if len(head) > HEADER_LIMIT:
                yield bytes(head)  # no pg_dump header this long: not ours to edit
                break
        else:
            if head:
                yield self._filter(bytes(head))
            return
        yield from chunks

    @staticmethod
    def _header_end(buffer: bytearray) -> int | None:
        """Offset of the first line that is not a header line (None: not seen yet)."""
        start = 0
        while (newline := buffer.find(b"\n", start)) != -1:
            if not _HEADER_LINE.match(bytes(buffer[start:newline])):
                return start
            start = newline + 1
        return None

    def _filter(self, header: bytes) -> bytes:
        lines = header.split(b"\n")
        for index, line in enumerate(lines):
            match = _SET_LINE.match(line)
            if match and match.group(1).decode().lower() not in self.known:
                name = match.group(1).decode()
                self.skipped.append(name)
                lines[index] = (
                    b"-- skipped by restore (the target server has no such setting): " + line
                )
        return b"\n".join(lines)
