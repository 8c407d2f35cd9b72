"""Retention: objects older than BACKUP_RETENTION_DAYS go, the newest backup always stays."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from observatory_pipelines.backups import catalog
from observatory_pipelines.backups.backup import prune, run_backup, select_prunable
from observatory_pipelines.storage.object_store import ObjectInfo

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def _seed_aged(store, root, ages_days: list[int]) -> list[str]:
    """A dump + manifest per age, named and last-modified ``age`` days before NOW."""
    keys = []
    for age in ages_days:
        when = NOW - timedelta(days=age)
        key = catalog.backup_key(when)
        store.put(key, b"dump")
        store.put(catalog.manifest_key(key), b"{}")
        for name in (key, catalog.manifest_key(key)):
            path = root / store.bucket / name
            os.utime(path, (when.timestamp(), when.timestamp()))
        keys.append(key)
    return keys


def test_prune_deletes_expired_dumps_with_their_manifests(store, object_store_resource):
    root = object_store_resource.folder()
    k40, k31, k29, k1 = _seed_aged(store, root, [40, 31, 29, 1])
    store.put("postgres/stray.txt", b"x")
    os.utime(root / store.bucket / "postgres/stray.txt", (0, 0))
    store.put("elsewhere/old.bin", b"x")  # outside postgres/: never ours to prune
    os.utime(root / store.bucket / "elsewhere/old.bin", (0, 0))

    result = prune(store, now=NOW, retention_days=30)

    gone = {k40, catalog.manifest_key(k40), k31, catalog.manifest_key(k31), "postgres/stray.txt"}
    assert sorted(result.deleted) == sorted(gone)
    assert result.failed == {}
    left = {info.key for info in store.list("")}
    assert left == {
        k29,
        catalog.manifest_key(k29),
        k1,
        catalog.manifest_key(k1),
        "elsewhere/old.bin",
    }


def test_the_newest_backup_survives_whatever_its_age(store, object_store_resource):
    keys = _seed_aged(store, object_store_resource.folder(), [90, 60, 45])

    result = prune(store, now=NOW, retention_days=30)

    newest = keys[2]
    assert {info.key for info in store.list("postgres/")} == {newest, catalog.manifest_key(newest)}
    assert newest not in result.deleted and len(result.deleted) == 4


def test_prune_with_nothing_expired_deletes_nothing(store, object_store_resource):
    _seed_aged(store, object_store_resource.folder(), [3, 2, 1])
    assert prune(store, now=NOW, retention_days=30).deleted == []
    assert len(list(store.list("postgres/"))) == 6


def test_select_prunable_takes_orphaned_manifests_of_pruned_dumps_along():
    def info(key, age_days):
        return ObjectInfo("b", key, 1, NOW - timedelta(days=age_days))

    old, new = catalog.backup_key(NOW - timedelta(days=50)), catalog.backup_key(NOW)
    objects = [
        info(old, 50),
        info(catalog.manifest_key(old), 5),  # rewritten recently, still goes with its dump
        info(new, 0),
        info(catalog.manifest_key(new), 0),
    ]
    assert select_prunable(objects, now=NOW, retention_days=30) == [
        old,
        catalog.manifest_key(old),
    ]
    assert select_prunable([], now=NOW, retention_days=30) == []
    with pytest.raises(ValueError, match="BACKUP_RETENTION_DAYS"):
        select_prunable(objects, now=NOW, retention_days=-1)


class FailingRemove:
    """The real store, except that removing ``victim`` fails like a refused DELETE."""

    def __init__(self, store, victim: str):
        self._store = store
        self.victim = victim
        self.bucket = store.bucket

    def remove(self, key: str) -> None:
        if key == self.victim:
            raise PermissionError(f"AccessDenied: cannot delete {key}")
        self._store.remove(key)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_a_pruning_error_is_a_warning_and_the_backup_still_succeeds(
    seeded, database_url, store, object_store_resource, log_lines
):
    k40, k35 = _seed_aged(store, object_store_resource.folder(), [40, 35])
    failing = FailingRemove(store, victim=k40)

    result = run_backup(failing, database_url, retention_days=30)

    assert store.exists(result.key) and store.exists(result.manifest_key)
    assert list(result.pruned.failed) == [k40]
    assert k35 in result.pruned.deleted and not store.exists(k35)
    assert store.exists(k40)
    warnings = [json.loads(line) for line in log_lines if '"prune_failed"' in line]
    assert [(w["level"], w["key"]) for w in warnings] == [("warning", k40)]
