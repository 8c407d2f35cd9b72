"""Near-duplicate groups: MinHash over character 5-grams, LSH banding, verified pairs (§2.7).

- **Text**: title and text, NFC and casefolded; links, @mentions and emoji removed;
  punctuation turned into spaces; whitespace collapsed. Shorter than ``MIN_CHARS``: not
  compared (``"Enig!"`` would otherwise cluster with every ``"Enig."``).
- **Signature**: datasketch ``MinHash(num_perm=128, seed=1)`` over the set of character
  5-grams; deterministic on every machine. Stored (512 bytes) so that old records are never
  hashed again.
- **Candidates**: the signature cut into ``BANDS`` bands of ``ROWS`` rows (datasketch's own
  optimum for ``THRESHOLD`` and 128 permutations: 14 × 9); each band is one bucket value,
  stored in ``enrichment_near_dup_buckets``. A new record's candidates are the records, old
  or new, sharing a bucket: the persisted LSH index, queried by key.
- **Verified**: a pair joins only if the estimated Jaccard similarity of the two signatures
  is at least ``THRESHOLD``; groups are the connected components of verified pairs.
- **Group**: ``cluster_id`` is the earliest member (``published_at``, then id); each member
  stores the group size and its estimated Jaccard similarity to that first record. A new
  record that joins (or bridges) groups rewrites the rows of those groups only.

Checked per cluster: at most ``MAX_TRIES_PER_CLUSTER`` of its members sharing a bucket
with a new record are compared, so a group of ten thousand copies costs a few comparisons.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import psycopg
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from observatory_pipelines.enrichments.links import URL_PATTERN

NUM_PERM = 128
SEED = 1
SHINGLE = 5
THRESHOLD = 0.7  # spec §2.7: 0.7-0.8; an edited wire copy scores ~0.76
MIN_CHARS = 40
MAX_TEXT_CHARS = 20_000  # a long article is judged on its first 20,000 characters
BANDS, ROWS = _optimal_param(THRESHOLD, NUM_PERM, 0.5, 0.5)
MAX_TRIES_PER_CLUSTER = 3
SQL_DIR = Path(__file__).resolve().parent / "sql"

_MENTION_OR_EMOJI = re.compile(
    r"(?<![\w@])@[\w.\-%]+|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]"
)
_NOT_WORD = re.compile(r"[\W_]+")

Key = tuple[UUID, datetime]  # (record_id, published_at)


def normalised(title: str | None, text: str | None) -> str:
    joined = " ".join(t for t in (title, text) if t)[:MAX_TEXT_CHARS]
    joined = unicodedata.normalize("NFC", joined).casefold()
    joined = _MENTION_OR_EMOJI.sub(" ", URL_PATTERN.sub(" ", joined))
    return " ".join(_NOT_WORD.sub(" ", joined).split())


def shingles(text: str) -> set[bytes]:
    return {text[i : i + SHINGLE].encode() for i in range(len(text) - SHINGLE + 1)}


def signatures(texts: list[str]) -> list[np.ndarray]:
    """The MinHash signature (128 × uint32) of each text."""
    hashes = MinHash.bulk([shingles(t) for t in texts], num_perm=NUM_PERM, seed=SEED)
    return [np.asarray(h.hashvalues, dtype="<u4") for h in hashes]


def buckets(signature: np.ndarray) -> list[int]:
    """One signed 64-bit bucket value per band (the band's number is part of the hash)."""
    values = []
    for band in range(BANDS):
        chunk = signature[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        values.append(int.from_bytes(digest, "big", signed=True))
    return values


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / NUM_PERM


def _from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u4")


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, item: Any) -> Any:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: Any, b: Any) -> None:
        self.parent[self.find(a)] = self.find(b)


@dataclass
class Member:
    key: Key
    signature: np.ndarray


@dataclass(frozen=True)
class Row:
    key: Key
    signature: bytes | None
    cluster: Key | None
    size: int | None
    jaccard: float | None
    is_origin: bool | None


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _stored_candidates(conn: psycopg.Connection, values: list[int]) -> list[tuple]:
    """Stored records sharing any of these buckets: (bucket, key, cluster key, signature)."""
    if not values:
        return []
    return conn.execute(_sql("near_dup_candidates.sql"), {"buckets": values}).fetchall()


def _stored_members(conn: psycopg.Connection, clusters: list[UUID]) -> list[tuple[UUID, Member]]:
    """Every stored member of these groups, with its group's id."""
    if not clusters:
        return []
    rows = conn.execute(_sql("near_dup_members.sql"), {"clusters": clusters}).fetchall()
    return [(r[3], Member((r[0], r[1]), _from_bytes(r[2]))) for r in rows]


@dataclass
class Grouped:
    """A page's outcome: its own rows, the stored groups it joins (rewritten), its buckets."""

    rows: list[Row]
    rewritten: list[Row]
    joined_clusters: list[UUID]
    buckets: list[tuple[int, Key]]


def group_page(conn: psycopg.Connection, records: list[dict[str, Any]]) -> Grouped:
    """Signatures, buckets and groups of a page of new records (see module doc)."""
    keys = [(r["id"], r["published_at"]) for r in records]
    texts = [normalised(r.get("title"), r.get("text_content")) for r in records]
    eligible = [i for i, t in enumerate(texts) if len(t) >= MIN_CHARS]
    sigs = dict(zip(eligible, signatures([texts[i] for i in eligible]), strict=True))
    page_buckets = {i: buckets(sigs[i]) for i in eligible}

    sets = _UnionFind()
    for i in eligible:
        sets.find(("new", i))
    # within the page: each bucket's members are compared with its first one
    by_bucket: dict[int, list[int]] = defaultdict(list)
    for i, values in page_buckets.items():
        for value in values:
            by_bucket[value].append(i)
    for members in by_bucket.values():
        first = members[0]
        for other in members[1:]:
            if sets.find(("new", other)) != sets.find(("new", first)):
                if jaccard(sigs[first], sigs[other]) >= THRESHOLD:
                    sets.union(("new", other), ("new", first))
    # against the stored index: a few members of each stored group sharing a bucket
    stored = _stored_candidates(conn, list(by_bucket))
    tried: dict[tuple[int, UUID], int] = defaultdict(int)
    for bucket, _record_id, _published_at, cluster_id, raw in stored:
        for i in by_bucket[bucket]:
            node = ("new", i)
            if tried[i, cluster_id] >= MAX_TRIES_PER_CLUSTER:
                continue
            if sets.find(node) == sets.find(("old", cluster_id)):
                continue
            tried[i, cluster_id] += 1
            if jaccard(sigs[i], _from_bytes(raw)) >= THRESHOLD:
                sets.union(node, ("old", cluster_id))

    components: dict[Any, list[Any]] = defaultdict(list)
    for i in eligible:
        components[sets.find(("new", i))].append(i)
    joined_clusters = {
        node[1] for node in list(sets.parent) if node[0] == "old" and sets.find(node) in components
    }
    old_by_root: dict[Any, list[Member]] = defaultdict(list)
    joined = sorted(joined_clusters)
    for cluster_id, member in _stored_members(conn, joined):
        old_by_root[sets.find(("old", cluster_id))].append(member)

    new_rows: list[Row] = []
    rewritten: list[Row] = []
    for root, indexes in components.items():
        members = [Member(keys[i], sigs[i]) for i in indexes] + old_by_root.get(root, [])
        origin = min(members, key=lambda m: (m.key[1], m.key[0]))
        new_keys = {keys[i] for i in indexes}
        for member in members:
            row = Row(
                key=member.key,
                signature=member.signature.tobytes(),
                cluster=origin.key,
                size=len(members),
                jaccard=round(jaccard(member.signature, origin.signature), 4),
                is_origin=member.key == origin.key,
            )
            (new_rows if member.key in new_keys else rewritten).append(row)
    for i, key in enumerate(keys):
        if i not in sigs:
            new_rows.append(Row(key, None, None, None, None, None))
    bucket_rows = [(value, keys[i]) for i, values in page_buckets.items() for value in values]
    return Grouped(new_rows, rewritten, joined, bucket_rows)


def delete_rewritten(conn: psycopg.Connection, clusters: list[UUID]) -> None:
    """Remove the stored rows of groups the page rewrites (COPY writes them again)."""
    conn.execute(_sql("near_dup_delete_members.sql"), {"clusters": clusters})
