"""A plain (non-editable) install works, as the production image uses it (issue 12.16).

The wheel is built offline from a copy of the sources, installed with ``pip --no-deps`` into a
fresh venv whose dependencies come from this venv (a ``.pth`` line: no downloads, seconds not
minutes), and used from an unrelated working directory: the definitions load, the SQL models
come from the installed package, one model runs against the test database, and Alembic
migrates a fresh database with the installed package (the image copies alembic.ini and
migrations/ beside it; compose runs ``alembic upgrade head`` there).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from observatory_pipelines.db import urls
from observatory_pipelines.db.scratch import create_database, drop_database, unique_name

PROJECT = Path(__file__).resolve().parents[2]
SHIPPED = ("pyproject.toml", "README.md", "observatory_pipelines", "dbt_like_sql")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SHIPPED:  # a copy: the build writes build/ and *.egg-info beside its input
        if (PROJECT / name).is_dir():
            shutil.copytree(PROJECT / name, source / name, ignore=IGNORE)
        else:
            shutil.copy2(PROJECT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(dist), str(source))  # fmt: skip
    (built,) = dist.glob("observatory_pipelines-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel))  # fmt: skip
    fresh_site = _run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    # Dependencies from this venv, after the fresh site-packages: the installed wheel wins and
    # this venv's editable-install hook (a .pth inside it) is never run.
    (Path(fresh_site.stdout.strip()) / "_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    return python


def test_wheel_holds_every_module_and_sql_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {
        path.relative_to(PROJECT).as_posix()
        for path in (PROJECT / "observatory_pipelines").rglob("*")
        if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts
    }
    models = {
        f"observatory_pipelines/dbt_like_sql/{path.name}"
        for path in (PROJECT / "dbt_like_sql").glob("*.sql")
    }
    assert models and modules - names == set() and models - names == set()


def _seed_design(database_url: str) -> str:
    owner, design, run = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(urls.libpq_url(database_url)) as conn, conn.transaction():
        conn.execute("INSERT INTO users (id, email) VALUES (%s, 'install@example.org')", [owner])
        conn.execute(
            "INSERT INTO query_designs (id, owner_id, name) VALUES (%s, %s, 'install')",
            [design, owner],
        )
        conn.execute(
            "INSERT INTO collection_runs (id, query_design_id, initiated_by, status) "
            "VALUES (%s, %s, %s, 'completed')",
            [run, design, owner],
        )
        for n, day in ((1, 3), (2, 3), (3, 4)):
            conn.execute(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, url, text_content, collection_run_id, query_design_id, "
                "search_terms_matched, collection_tier, raw_metadata, content_hash) "
                "VALUES (%s, 'bluesky', 'social_media', %s, 'post', %s, 'klima', %s, %s, "
                "ARRAY['klima'], 'free', '{}', %s)",
                [datetime(2026, 2, day, 12, tzinfo=UTC), f"p{n}", f"https://e.org/{n}", run,
                 design, f"{n:064d}"],
            )  # fmt: skip
        conn.execute(  # a design's records are its links (content_record_collections)
            "INSERT INTO content_record_collections (query_design_id, content_record_id, "
            "published_at, first_collection_run_id, collection_run_ids, search_terms_matched) "
            "SELECT query_design_id, id, published_at, collection_run_id, "
            "ARRAY[collection_run_id], search_terms_matched FROM content_records"
        )
    return design


PROBE = """
import json, sys
import psycopg
import observatory_pipelines.definitions as definitions
from observatory_pipelines.analysis import sql_models
from observatory_pipelines.analysis.scope import AnalysisScope
from observatory_pipelines.db import urls
from observatory_pipelines.db.scratch import create_database, drop_database, unique_name

keys = {k.to_user_string() for k in definitions.defs.resolve_asset_graph().get_all_asset_keys()}
params = AnalysisScope(sys.argv[2]).params()
with psycopg.connect(urls.libpq_url(sys.argv[1])) as conn:
    rows = sql_models.run_models(conn, params, ["volume_over_time"])["volume_over_time"]
print(json.dumps({
    "package": sql_models.__file__,
    "models": str(sql_models.MODEL_DIR),
    "has_volume_asset": any(k.endswith("volume_over_time") for k in keys),
    "volume": [[str(r["period"])[:10], r["count"]] for r in rows],
}))
"""


def test_installed_package_loads_definitions_and_runs_a_model(
    installed, db, database_url, tmp_path
):
    design = _seed_design(database_url)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["OBSERVATORY_DATA_DIR"] = str(PROJECT / "data")  # the shared embedded server's state
    out = _run(str(installed), "-c", PROBE, database_url, design, cwd=elsewhere, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    prefix = str(installed.parent.parent)
    assert result["package"].startswith(prefix)
    assert result["models"].startswith(prefix)
    assert result["models"].endswith("observatory_pipelines/dbt_like_sql")
    assert result["has_volume_asset"] is True
    assert result["volume"] == [["2026-02-03", 2], ["2026-02-04", 1]]


def test_alembic_migrates_with_the_installed_package(installed, server_url, tmp_path):
    """What compose's migrate step runs: alembic.ini + migrations/ copied, package installed."""
    shutil.copy2(PROJECT / "alembic.ini", tmp_path / "alembic.ini")
    shutil.copytree(PROJECT / "migrations", tmp_path / "migrations", ignore=IGNORE)
    name = unique_name("install")
    target = create_database(server_url, name)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["DATABASE_URL"] = target
        _run(str(installed), "-m", "alembic", "upgrade", "head", cwd=tmp_path, env=env)
        with psycopg.connect(urls.libpq_url(target)) as conn:
            (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            (tables,) = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'content_records'"
            ).fetchone()
        assert version and tables == 1
    finally:
        drop_database(server_url, name)
