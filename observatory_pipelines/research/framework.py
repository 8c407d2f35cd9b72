"""What a research analysis is, how it reads the database, and what it hands back.

A research analysis (link mining, propagation, coordination, emergent terms, spikes,
interaction networks, …) is a plain function ``compute(conn, params) -> ResearchOutput``
over ONE query design's records in the analysis scope (``params`` come from
``analysis.scope.check_scope``: the same filters the SQL models take). It reads SQL files
from ``research/sql/`` that may include the shared scope fragments
(``{{ scope_records }}``, ``{{ scope_where }}`` from ``dbt_like_sql/``), so every analysis
sees exactly the records the descriptive statistics count. It returns tables, networks,
charts and a summary; ``publish.py`` stores them, the Dagster edge makes one asset each.

``version`` is the asset's ``code_version``: the analysis' revision and a hash of its
parameters, so the UI shows when a stored result was computed by other code.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from observatory_pipelines import settings
from observatory_pipelines.analysis.sql_models import (
    expand_includes,
    jsonable,
    jsonable_rows,
    split_header,
    to_psycopg,
    used_params,
)

SQL_DIR = Path(__file__).with_name("sql")
STREAM_ROWS = 10_000  # rows fetched per round trip by ``stream``
# (SQL file, seconds) of each query/temp_table while ``timed_steps`` is active (the benchmark)
_STEPS: ContextVar[list[tuple[str, float]] | None] = ContextVar("research_steps", default=None)


@contextmanager
def timed_steps() -> Iterator[list[tuple[str, float]]]:
    """Collect (SQL file, seconds) of every ``query`` and ``temp_table`` run inside, so a
    benchmark can say which statements an analysis' time goes to (the rest is Python:
    shaping, network metrics, charts)."""
    steps: list[tuple[str, float]] = []
    token = _STEPS.set(steps)
    try:
        yield steps
    finally:
        _STEPS.reset(token)


@contextmanager
def _step(name: str) -> Iterator[None]:
    steps = _STEPS.get()
    started = time.perf_counter()
    try:
        yield
    finally:
        if steps is not None:
            steps.append((name, time.perf_counter() - started))


class ResearchInputError(ValueError):
    """A parameter of a research analysis that cannot be used; the message names it."""


@dataclass
class Table:
    """Rows with a fixed column order: an empty table still has its header."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for row in self.rows[:1]:
            if tuple(row) != self.columns:
                raise ValueError(f"row keys {tuple(row)} differ from the columns {self.columns}")


@dataclass
class ResearchOutput:
    """What one analysis of one design produced.

    tables:   name → Table; each is stored as CSV (spreadsheet-safe: UTF-8 with BOM, no
              live formulas) and all together as one JSON document.
    networks: name → graph dict ``{"nodes": [...], "edges": [...], "directed": bool}``
              (``analysis.network`` conventions); stored as graph JSON and static GEXF 1.3.
    gexf:     name → finished GEXF bytes (dynamic, time-sliced networks).
    charts:   name → PNG bytes; shown in the asset's metadata and stored beside the tables.
    summary:  small numbers for the asset's metadata (counts, the window used, …).
    parameters: every parameter the result depends on (defaults included), stored with it.
    """

    tables: dict[str, Table] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    gexf: dict[str, bytes] = field(default_factory=dict)
    charts: dict[str, bytes] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResearchAnalysis:
    name: str  # the asset's name: lower_snake_case
    description: str
    compute: Callable[[psycopg.Connection, dict[str, Any]], ResearchOutput]
    revision: int = 1
    parameters: dict[str, Any] = field(default_factory=dict)  # the defaults, for the version
    reads: tuple[str, ...] = ()  # enrichment assets whose tables it reads (lineage)

    @property
    def version(self) -> str:
        canonical = json.dumps(jsonable(self.parameters), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
        return f"r{self.revision}+{digest}"


@cache
def research_sql(name: str) -> str:
    """``research/sql/<name>.sql`` with its header dropped and includes expanded (``:param``
    placeholders; ``query``/``stream`` bind them)."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"no research SQL file {path.name}")
    _, body = split_header(path.read_text(encoding="utf-8"))
    return expand_includes(body, SQL_DIR, path.name)


def _bound(body: str, params: dict[str, Any]) -> dict[str, Any]:
    needed = used_params(body)
    missing = needed - set(params)
    if missing:
        raise ValueError(f"SQL needs parameters {sorted(missing)} that were not given")
    return {name: params[name] for name in needed}


def query(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """All rows of ``research/sql/<name>.sql`` (for results that are small by construction:
    top lists, aggregates, edges after a cut)."""
    body = research_sql(name)
    with _step(name), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(to_psycopg(body), _bound(body, params))
        return jsonable_rows(cur)


def stream(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The rows of ``research/sql/<name>.sql`` through a server-side cursor, so memory stays
    bounded whatever the design's size. Needs an open transaction (psycopg opens one)."""
    body = research_sql(name)
    with conn.cursor(name=f"research_{name}", row_factory=dict_row) as cur:
        cur.itersize = STREAM_ROWS
        cur.execute(to_psycopg(body), _bound(body, params))
        yield from cur


# parallel_tuple_cost while a temp table's SELECT is planned (Postgres's default: 0.1).
CTAS_PARALLEL_TUPLE_COST = "0.01"


def temp_table_select(name: str) -> str:
    """The SELECT ``temp_table`` stores: ``research_sql(name)``. Its own name so a test can
    store every temp table's rows in another order (tests/research/test_row_order.py)."""
    return research_sql(name)


def temp_table(
    conn: psycopg.Connection,
    table: str,
    name: str,
    params: dict[str, Any],
    statistics: tuple[str, ...] | None = None,
) -> int:
    """``research/sql/<name>.sql`` stored as the temp table ``table`` of this transaction
    (dropped at its end) and analysed; its row count. For an input several queries of one
    analysis read, so the scope's records are scanned once. Needs an open transaction.
    ``statistics``: the columns the later queries join, filter or group on (None: all). Each
    analysed column costs its sample of 30,000 values sorted (text by the collation):
    unread statistics of wide text columns were ~40 % of storing the scope's links."""
    body = temp_table_select(name)
    identifier = sql.Identifier(table)
    with _step(name), conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(identifier))
        # The scope's SELECT may run in parallel workers (the leader inserts): by the
        # default parallel_tuple_cost, moving a row of the whole scope through Gather costs
        # more than the planner expects a worker to save, so it never picks that plan. It is
        # lowered for this statement only; what the transaction had is set back after.
        cur.execute(
            "SELECT current_setting('parallel_tuple_cost'),"
            " set_config('parallel_tuple_cost', %s, true)",
            [CTAS_PARALLEL_TUPLE_COST],
        )
        [previous, _] = cur.fetchone()
        create = sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS ").format(identifier)
        cur.execute(create.as_string(conn) + to_psycopg(body), _bound(body, params))
        rows = cur.rowcount
        cur.execute("SELECT set_config('parallel_tuple_cost', %s, true)", [previous])
        # Autovacuum never analyses temp tables: without statistics the joins over it plan badly.
        columns = sql.SQL("")
        if statistics:
            columns = sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, statistics)))
        cur.execute(sql.SQL("ANALYZE {}{}").format(identifier, columns))
    return rows


Item = TypeVar("Item")
Read = TypeVar("Read")
Shaped = TypeVar("Shaped")


def read_and_shape(
    items: Iterable[Item],
    read: Callable[[Item], Read],
    shape: Callable[[Item, Read], Shaped],
) -> dict[Item, tuple[Read, Shaped]]:
    """``read(item)`` for each item in turn on this thread (a query on the connection), and
    ``shape(item, read)`` of each on a second thread while the next item is read: a query's
    wait releases the GIL, so the Python shaping (network metrics, GEXF) and the server's
    next statement use the machine's two cores instead of following each other. In item
    order; an error of either is raised here."""
    pending: dict[Item, tuple[Read, Future[Shaped]]] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="research-shape") as pool:
        for item in items:
            value = read(item)
            pending[item] = (value, pool.submit(shape, item, value))
    return {item: (value, shaped.result()) for item, (value, shaped) in pending.items()}


@contextmanager
def bulk_transaction(conn: psycopg.Connection) -> Iterator[None]:
    """A transaction (a savepoint inside an open one) with ``bulk_session``'s settings."""
    with conn.transaction():
        bulk_session(conn)
        yield


def bulk_session(conn: psycopg.Connection) -> None:
    """Settings for the rest of this transaction, for queries over a whole design: the
    SQL models' ``work_mem`` (ANALYSIS_WORK_MEM), and no nested-loop joins. Joins of the
    enrichment tables on (record id, published_at) are estimated at about one row (the
    planner multiplies both columns' selectivities, though the id alone is unique), so it
    would loop over an index lookup per record instead of hashing once."""
    conn.execute(
        "SELECT set_config('work_mem', %s, true), set_config('enable_nestloop', 'off', true)",
        [settings.analysis_work_mem()],
    )
    # The temp tables (the scope's links: ~1.1 rows a record) outgrow the default 8 MB of
    # local buffers and would be written out and read back; like the SQL models, a session
    # that has not touched a temp table yet (an asset's fresh connection) gets the analysis
    # size. Postgres refuses the change once it has, so that session keeps what it has.
    with suppress(psycopg.errors.Error), conn.transaction():
        conn.execute(
            "SELECT set_config('temp_buffers', %s, false)", [settings.analysis_temp_buffers()]
        )
