"""dbt-like SQL models: one ``.sql`` file per model under ``dbt_like_sql/``, with a header.

Header lines (leading ``--`` comments)::

    -- params: granularity              bound parameters the model uses (checked both ways)
    -- depends_on: stg_content           models it reads, by name (a DAG; Dagster lineage)
    -- order_by: period                 the order of its rows when read back
    -- returns: count                    read back only its row count (large models)
    -- returns: stream                   not read back into Python: its rows are streamed as
                                         JSON text (one row a line) to ``publish`` (models
                                         nothing reads but people download)
    -- count_column: scope_records       with returns: count, read back sum(column) instead
                                         (a table folded from records counts its records)
    -- analyze: author_key, platform      columns to ANALYZE after building (default: all)

Other header lines are the description. ``{{ fragment }}`` and ``{{ fragment('a', 'b') }}``
include ``_fragment.sql`` (``$1``, ``$2`` replaced by the identifier arguments): that is
composition of our own files, never of values. Values are always bound parameters.

Running: every model needed is created, in dependency order, as a TEMP table named after
the model on one connection, so a model reads its dependencies (``stg_content`` above all)
once instead of re-scanning ``content_records``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from observatory_pipelines import settings
from observatory_pipelines.analysis import facets
from observatory_pipelines.analysis.sql_text import (
    _IDENT,
    MODEL_DIR,
    SqlModelError,
    _list,
    expand_includes,
    split_header,
    to_psycopg,
    used_params,
)
from observatory_pipelines.logs import get_logger

_ORDER = re.compile(r"^[a-z_][a-z0-9_]*( (ASC|DESC))?( NULLS (FIRST|LAST))?$", re.IGNORECASE)

_PLAIN = frozenset((str, int, float, bool))
# default_statistics_target for the ANALYZE of the models' temp tables (see _tune_session).
TEMP_STATISTICS_TARGET = 10

log = get_logger(__name__)


@dataclass(frozen=True)
class SqlModel:
    name: str
    path: Path
    description: str
    params: tuple[str, ...]
    depends_on: tuple[str, ...]
    order_by: tuple[str, ...]
    returns: str  # "rows", "count" or "stream"
    analyze: tuple[str, ...]  # empty: every column
    count_column: str | None  # returns: count reads sum(column) instead of the row count
    body: str  # includes expanded, ':name' placeholders

    def psycopg_sql(self) -> str:
        """The body with psycopg's ``%(name)s`` placeholders (literal ``%`` escaped)."""
        return to_psycopg(self.body)


def parse_model(path: Path) -> SqlModel:
    name = path.stem
    if not _IDENT.match(name):
        raise SqlModelError(f"{path.name}: model names must be lower_snake_case")
    header, body = split_header(path.read_text(encoding="utf-8"))
    fields: dict[str, tuple[str, ...]] = {
        "params": (),
        "depends_on": (),
        "order_by": (),
        "returns": ("rows",),
        "analyze": (),
        "count_column": (),
    }
    description = []
    for line in header:
        key, sep, value = line.partition(":")
        if sep and key.strip() in fields:
            fields[key.strip()] = _list(value)
        else:
            description.append(line)
    if not body:
        raise SqlModelError(f"{path.name}: no SQL after the header")
    if fields["returns"] not in (("rows",), ("count",), ("stream",)):
        raise SqlModelError(f"{path.name}: returns must be 'rows', 'count' or 'stream'")
    body = expand_includes(body, path.parent, path.name)
    declared, used = set(fields["params"]), used_params(body)
    if used - declared:
        raise SqlModelError(f"{path.name}: uses undeclared params {sorted(used - declared)}")
    if declared - used:
        raise SqlModelError(f"{path.name}: declares unused params {sorted(declared - used)}")
    for column in fields["analyze"] + fields["count_column"]:
        if not _IDENT.match(column):
            raise SqlModelError(f"{path.name}: bad column name {column!r}")
    if len(fields["count_column"]) > 1 or (
        fields["count_column"] and fields["returns"] != ("count",)
    ):
        raise SqlModelError(f"{path.name}: count_column takes one column and needs returns: count")
    for item in fields["order_by"]:
        if not _ORDER.match(item):
            raise SqlModelError(f"{path.name}: bad order_by item {item!r}")
    return SqlModel(
        name=name,
        path=path,
        description=" ".join(description),
        params=fields["params"],
        depends_on=fields["depends_on"],
        order_by=fields["order_by"],
        returns=fields["returns"][0],
        analyze=fields["analyze"],
        count_column=fields["count_column"][0] if fields["count_column"] else None,
        body=body,
    )


@lru_cache(maxsize=4)
def load_models(folder: Path = MODEL_DIR) -> dict[str, SqlModel]:
    """Every model of ``folder`` in dependency order (fragments ``_*.sql`` excluded)."""
    models = {p.stem: parse_model(p) for p in sorted(folder.glob("*.sql")) if p.stem[0] != "_"}
    for model in models.values():
        for dep in model.depends_on:
            if dep not in models:
                raise SqlModelError(f"{model.path.name}: depends on unknown model {dep!r}")
    ordered: dict[str, SqlModel] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise SqlModelError(f"dependency cycle through {name!r}")
        visiting.add(name)
        for dep in models[name].depends_on:
            visit(dep)
        visiting.discard(name)
        ordered[name] = models[name]

    for name in models:
        visit(name)
    return ordered


def required_models(names: Iterable[str], models: dict[str, SqlModel]) -> list[str]:
    """``names`` and everything they depend on, in dependency order."""
    needed: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in models:
            raise SqlModelError(f"unknown model {name!r}; known: {', '.join(models)}")
        if name not in needed:
            needed.add(name)
            stack.extend(models[name].depends_on)
    return [name for name in models if name in needed]


def jsonable(value: Any) -> Any:
    if value is None or type(value) in _PLAIN:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


# Column types psycopg already loads as JSON-ready values (str, int, float, bool, lists of
# them, parsed json/jsonb): text, varchar, name, bool, int2/4/8, float4/8, json, jsonb and
# arrays of text/varchar/int2/int4/int8. Other columns (uuid, numeric, timestamps) go
# through jsonable value by value.
_JSON_READY_OIDS = frozenset(
    (25, 1043, 19, 16, 21, 23, 20, 700, 701, 114, 3802, 1009, 1015, 1005, 1007, 1016)
)


def jsonable_rows(cur) -> list[dict[str, Any]]:
    """The cursor's (dict) rows with JSON-ready values; only columns of other types are
    converted, value by value (the SQL models' rows, and research/framework.query's)."""
    rows = cur.fetchall()
    convert = [
        column.name for column in cur.description if column.type_code not in _JSON_READY_OIDS
    ]
    if convert:
        for row in rows:
            for name in convert:
                row[name] = jsonable(row[name])
    return rows


def _tune_session(cur) -> None:
    """Memory for this transaction's sorts and hashes, and for the temp tables (the latter
    only settable before the session first touches a temp table, hence the savepoint)."""
    cur.execute("SELECT set_config('work_mem', %s, true)", [settings.analysis_work_mem()])
    # stg_content's GROUPING SETS aggregate cannot run in parallel, but the scan under it
    # can: one worker filters content_records and computes the keys while the leader
    # hashes (1M records: ~0.94 -> ~0.75 s). The planner prices the Gather of ~1M narrow
    # rows above a serial scan, hence the zero costs; a second worker only competed with
    # the leader for CPU. Temp tables (every other model's input) are never scanned in
    # parallel, so nothing else changes plan.
    # The temp tables' ANALYZE samples 300 rows per statistics target unit: at the default 100
    # it read most of each table (the author and term tables, ~20,000-60,000 rows each: 0.9 s
    # of 5 ANALYZEs loaded); 10 samples 3,000 rows (0.2 s) and the joins over them, whose keys
    # are nearly unique, planned and ran the same. Only this transaction's ANALYZEs use it.
    cur.execute(
        "SELECT set_config('parallel_setup_cost', '0', true), "
        "set_config('parallel_tuple_cost', '0', true), "
        "set_config('max_parallel_workers_per_gather', "
        "least(current_setting('max_parallel_workers_per_gather')::int, 1)::text, true), "
        "set_config('default_statistics_target', %s, true)",
        [str(TEMP_STATISTICS_TARGET)],
    )
    try:
        with cur.connection.transaction():
            cur.execute(
                "SELECT set_config('temp_buffers', %s, false)", [settings.analysis_temp_buffers()]
            )
    except psycopg.errors.Error as exc:
        log.debug("temp_buffers_unchanged", reason=str(exc).splitlines()[0])


def _create_model_table(cur, model: SqlModel, params: dict[str, Any]) -> int:
    """``model`` as a temp table of this transaction; its row count."""
    table = sql.Identifier(model.name)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(table))
    cur.execute(
        sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS ").format(table).as_string(cur.connection)
        + model.psycopg_sql(),
        {p: params[p] for p in model.params},
    )
    return cur.rowcount


# The rows of a ``returns: stream`` model as JSON lines (the file says how).
_STREAM_SQL = split_header(
    (Path(__file__).with_name("sql") / "model_stream.sql").read_text(encoding="utf-8")
)[1]


# Integer types, whose JSON is their text (row_to_json writes them so); every other value is
# written by to_json, as row_to_json writes it.
_INTEGER_OIDS = frozenset((20, 21, 23))


def _row_json(columns: list[tuple[str, int]]) -> sql.Composable:
    """``row_to_json(t)::text`` of a row with these (name, type oid) columns, as one
    concatenation: row_to_json looks up every column's type output per row (loaded: 47,000
    rows of actor_terms 0.20-0.28 s, concatenated 0.12-0.20 s; the same bytes)."""
    parts: list[sql.Composable] = []
    for position, (name, type_oid) in enumerate(columns):
        key = ("{" if position == 0 else ",") + json.dumps(name, ensure_ascii=False) + ":"
        value = (
            sql.SQL("t.{}::text").format(sql.Identifier(name))
            if type_oid in _INTEGER_OIDS
            else sql.SQL("to_json(t.{})::text").format(sql.Identifier(name))
        )
        parts.append(sql.SQL("{} || coalesce({}, 'null')").format(sql.Literal(key), value))
    return sql.SQL("({} || '}}')").format(sql.SQL(" || ").join(parts))


def _stream_rows(cur, model: SqlModel) -> Iterator[bytes]:
    """The model's temp table as JSON lines (sql/model_stream.sql), in its ``order_by``.

    Text columns are sorted by their bytes (``COLLATE "C"``): the sort of the ~20,000-60,000
    author and term rows was most of the stream's cost (loaded: 0.22-0.36 s of a 60,000-row
    table, 0.10-0.19 s in byte order). UTF-8's byte order is code point order, the order of
    the C.UTF-8 databases we run, so the stored documents did not change there."""
    cur.execute(
        "SELECT attname::text AS name, atttypid::int AS type_oid, attcollation <> 0 AS collatable "
        "FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum",
        [f"pg_temp.{model.name}"],
    )
    columns = cur.fetchall()
    collatable = {column["name"] for column in columns if column["collatable"]}
    order = sql.SQL("")
    if model.order_by:
        items = []
        for item in model.order_by:
            column, _, direction = item.partition(" ")
            collate = sql.SQL(' COLLATE "C"') if column in collatable else sql.SQL("")
            items.append(
                sql.SQL("{}{} {}").format(sql.Identifier(column), collate, sql.SQL(direction))
            )
        order = sql.SQL("ORDER BY {}").format(sql.SQL(", ").join(items))
    query = sql.SQL(_STREAM_SQL).format(
        order=order,
        table=sql.Identifier(model.name),
        row_json=_row_json([(column["name"], column["type_oid"]) for column in columns]),
    )
    with cur.copy(query) as copy:
        yield from copy


def run_models(
    conn,
    params: dict[str, Any],
    names: Iterable[str],
    models: dict[str, SqlModel] | None = None,
    *,
    full_recompute: bool = False,
    facet_refreshes: list | None = None,
    publish: Callable[[str, Iterator[bytes]], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Build the temp tables ``names`` need and return the rows of each of ``names``
    (``[{"rows": n}]`` for ``returns: count`` and ``returns: stream`` models). The rows of a
    ``returns: stream`` model are never read into Python: ``publish(name, lines)`` is called
    with them as JSON text (``_STREAM_SQL``; the callback must consume them before it returns).

    ``params`` must come from ``check_scope`` (validated). Runs in one transaction on
    ``conn`` (a psycopg connection); the temp tables vanish at its end.

    For the standard scope (no filter) ``stg_content`` comes from the design's persisted
    facets, brought up to date incrementally (``facets.py``); ``full_recompute`` folds
    every record again instead. What the refresh did is appended to ``facet_refreshes``.
    """
    persistable = models is None
    models = models or load_models()
    wanted = list(dict.fromkeys(names))
    results: dict[str, list[dict[str, Any]]] = {}
    needed = required_models(wanted, models)
    read_by_sql = {dep for name in needed for dep in models[name].depends_on}
    persisted = (
        persistable
        and facets.FACET_MODEL in needed
        and facets.is_standard(params, models[facets.FACET_MODEL].params)
    )
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        _tune_session(cur)
        for name in needed:
            model = models[name]
            table = sql.Identifier(name)
            if persisted and name == facets.FACET_MODEL:
                refreshed = facets.refresh(
                    cur,
                    params["query_design_id"],
                    lambda model=model: _create_model_table(cur, model, params),
                    force_full=full_recompute,
                )
                if facet_refreshes is not None:
                    facet_refreshes.append(refreshed)
                built = -1  # stg_content is read back by its count_column
            else:
                built = _create_model_table(cur, model, params)
            # Autovacuum never analyses temp tables; without statistics the joins of the
            # models reading this one plan badly (a table no model reads needs none).
            if name in read_by_sql:
                analyze = sql.SQL("ANALYZE {}").format(table)
                if model.analyze:
                    columns = sql.SQL(", ").join(sql.Identifier(c) for c in model.analyze)
                    analyze = sql.SQL("{} ({})").format(analyze, columns)
                cur.execute(analyze)
            log.debug("sql_model_built", model=name, rows=built)
            if name in wanted and model.returns == "count" and model.count_column:
                cur.execute(
                    sql.SQL("SELECT coalesce(sum({}), 0)::bigint AS rows FROM {}").format(
                        sql.Identifier(model.count_column), table
                    )
                )
                results[name] = [cur.fetchone()]
            elif name in wanted and model.returns in ("count", "stream"):
                results[name] = [{"rows": built}]
                if model.returns == "stream" and publish is not None:
                    publish(name, _stream_rows(cur, model))
            elif name in wanted:
                order = sql.SQL(", ").join(sql.SQL(item) for item in model.order_by)
                query = sql.SQL("SELECT * FROM {}").format(table)
                if model.order_by:
                    query = sql.SQL("{} ORDER BY {}").format(query, order)
                cur.execute(query)
                results[name] = jsonable_rows(cur)
    return results


def code_versions(models: dict[str, SqlModel]) -> dict[str, str]:
    """Each model's code version: a hash of its SQL (includes expanded) and of the versions of
    the models it reads, so editing a model changes it and every model downstream of it."""
    versions: dict[str, str] = {}
    for name, model in models.items():  # dependency order: a model's inputs come first
        text = "\x00".join([model.body, *(versions[dep] for dep in model.depends_on)])
        versions[name] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return versions
