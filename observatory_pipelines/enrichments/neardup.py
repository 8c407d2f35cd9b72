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
- **Group**: one row per group of two or more (``enrichment_near_dup_groups``: its first
  record by ``published_at`` then id, that record's signature, its size); each member row
  points to its group and holds its estimated Jaccard similarity to the first record. A new
  record joining a group writes its own row and the group's; merging groups repoints the
  smaller ones' members; a new first record (an older copy collected later) re-scores the
  group's members. The view ``enrichment_near_dup_clusters`` gives every record its
  cluster id (the first record), size and origin flag.

Bounded work per new record, whatever a group's size: at most ``MAX_TRIES_PER_GROUP``
stored members of a group sharing a bucket are fetched and compared, so at most that many
members of a group hold any one bucket: a grouped record adds no bucket its group already
holds that often, and a record whose signature equals a grouped record's adds none (its
twin already answers for it). Ten thousand reposts cost the index a few records' buckets,
and a bucket's rows grow with the groups and singles sharing it, not with their sizes.
When members are pruned, the remaining members of their groups take over the buckets the
pruned ones held (``repair_after_prune``), so no bucket of a group goes unanswered.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import psycopg
from datasketch import MinHash, MinHashLSH

from observatory_pipelines.enrichments.links import URL_PATTERN

NUM_PERM = 128
SEED = 1
SHINGLE = 5
THRESHOLD = 0.7  # spec §2.7: 0.7-0.8; an edited wire copy scores ~0.76
MIN_CHARS = 40
MAX_TEXT_CHARS = 20_000  # a long article is judged on its first 20,000 characters
# datasketch's own choice of bands x rows for the threshold (weights 0.5/0.5), read from a
# public MinHashLSH rather than its private helper: 14 x 9 for 0.7 and 128 permutations.
_LSH_SHAPE = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, weights=(0.5, 0.5))
BANDS, ROWS = _LSH_SHAPE.b, _LSH_SHAPE.r
MAX_TRIES_PER_GROUP = 3
RESCORE_CHUNK = 5_000  # members re-scored per statement
CANDIDATE_CHUNK = 10_000  # candidate rows fetched at a time
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
    # one text's shingles at a time, not a whole page's
    hashes = MinHash.generator((shingles(t) for t in texts), num_perm=NUM_PERM, seed=SEED)
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


@dataclass(frozen=True)
class Group:
    group_id: UUID
    origin: Key
    origin_signature: np.ndarray
    size: int


@dataclass(frozen=True)
class NewRow:
    key: Key
    signature: bytes | None
    group_id: UUID | None
    jaccard: float | None


@dataclass
class Grouped:
    """A page's outcome: its rows, stored rows regrouped, groups written and merged away."""

    rows: list[NewRow]
    regrouped: list[tuple[Key, UUID, float]]
    # stored groups whose members are re-scored against a new first record (or repointed
    # to the group they merged into) when written: old group → (group, first's signature)
    rescored: dict[UUID, tuple[UUID, np.ndarray]]
    groups: list[Group]
    merged_away: list[UUID]
    buckets: list[tuple[int, Key]]


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _order(key: Key) -> tuple[datetime, str]:
    return key[1], str(key[0])


def _stored_groups(conn: psycopg.Connection, ids: list[UUID]) -> dict[UUID, Group]:
    if not ids:
        return {}
    rows = conn.execute(_sql("near_dup_groups.sql"), {"groups": ids}).fetchall()
    return {r[0]: Group(r[0], (r[1], r[2]), _from_bytes(r[3]), r[4]) for r in rows}


def _candidates(
    conn: psycopg.Connection, bucket_values: list[int]
) -> tuple[list[tuple[int, Key, UUID | None]], dict[Key, np.ndarray]]:
    """The stored records sharing these buckets (near_dup_candidates.sql) as (bucket, key,
    group), the earliest first in each bucket whatever the plan, and each one's signature.
    Read in chunks from a server-side cursor, and a record in several of the buckets keeps
    one signature: the rows are never held twice over (by libpq and by Python)."""
    candidates: list[tuple[int, Key, UUID | None]] = []
    signature_of: dict[Key, np.ndarray] = {}
    if not bucket_values:
        return candidates, signature_of
    with conn.cursor(name="near_dup_candidates") as cur:
        cur.execute(
            _sql("near_dup_candidates.sql"),
            {"buckets": bucket_values, "tries": MAX_TRIES_PER_GROUP},
        )
        while rows := cur.fetchmany(CANDIDATE_CHUNK):
            for bucket, record_id, published_at, group_id, raw in rows:
                key = (record_id, published_at)
                if key not in signature_of:
                    signature_of[key] = _from_bytes(raw)
                candidates.append((bucket, key, group_id))
    candidates.sort(key=lambda c: (c[0], c[1][1], c[1][0]))
    return candidates, signature_of


def group_page(conn: psycopg.Connection, records: list[dict[str, Any]]) -> Grouped:
    """Signatures, buckets and groups of a page of new records (see module doc)."""
    keys = [(r["id"], r["published_at"]) for r in records]
    texts = [normalised(r.get("title"), r.get("text_content")) for r in records]
    eligible = [i for i, t in enumerate(texts) if len(t) >= MIN_CHARS]
    sigs = dict(zip(eligible, signatures([texts[i] for i in eligible]), strict=True))
    page_buckets = {i: buckets(sigs[i]) for i in eligible}
    sets = _UnionFind()
    redundant: set[int] = set()  # identical to a record whose buckets are (or will be) stored

    def compare(i: int, node: Any, signature: np.ndarray) -> None:
        similarity = jaccard(sigs[i], signature)
        if similarity >= THRESHOLD:
            sets.union(("new", i), node)
            if similarity == 1.0:
                redundant.add(i)

    by_bucket: dict[int, list[int]] = defaultdict(list)
    for i, values in page_buckets.items():
        sets.find(("new", i))
        for value in values:
            by_bucket[value].append(i)
    for members in by_bucket.values():  # within the page: each against the bucket's first
        first = members[0]
        for other in members[1:]:
            # compared even when already joined, unless known identical: an exact copy must
            # be recognised as one whatever order the page's records come in
            if other not in redundant:
                compare(other, ("new", first), sigs[first])

    single_signatures: dict[Key, np.ndarray] = {}
    tried: dict[tuple[int, Any], int] = defaultdict(int)
    candidates, signature_of = _candidates(conn, list(by_bucket))
    stored_holders: list[tuple[int, Any]] = []
    for bucket, key, group_id in candidates:
        node = ("group", group_id) if group_id else ("single", key)
        stored_holders.append((bucket, node))
        signature = signature_of[key]
        if group_id is None:
            single_signatures[key] = signature
        for i in by_bucket[bucket]:
            if tried[i, node] >= MAX_TRIES_PER_GROUP or i in redundant:
                continue
            tried[i, node] += 1
            compare(i, node, signature)

    components: dict[Any, list[Any]] = defaultdict(list)
    for node in list(sets.parent):
        components[sets.find(node)].append(node)
    stored = _stored_groups(conn, sorted({n[1] for n in sets.parent if n[0] == "group"}, key=str))
    rows: list[NewRow] = []
    regrouped: list[tuple[Key, UUID, float]] = []
    groups: list[Group] = []
    merged_away: list[UUID] = []
    rescore: dict[UUID, tuple[UUID, np.ndarray]] = {}  # stored group → (new id, origin sig)
    for nodes in components.values():
        new = [n[1] for n in nodes if n[0] == "new"]
        if not new:
            continue  # a stored record or group no new record joined
        old_groups = [stored[n[1]] for n in nodes if n[0] == "group"]
        singles = [n[1] for n in nodes if n[0] == "single"]
        if not old_groups and not singles and len(new) == 1:
            rows.append(NewRow(keys[new[0]], sigs[new[0]].tobytes(), None, None))
            continue
        firsts = [(g.origin, g.origin_signature) for g in old_groups]
        firsts += [(k, single_signatures[k]) for k in singles]
        firsts += [(keys[i], sigs[i]) for i in new]
        origin, origin_signature = min(firsts, key=lambda f: _order(f[0]))
        # the largest group stays (fewest rows repointed); of equal ones, the oldest
        target = min(old_groups, key=lambda g: (-g.size, _order(g.origin)), default=None)
        group_id = target.group_id if target else origin[0]
        for group in old_groups:
            if group is not target or group.origin != origin:
                rescore[group.group_id] = (group_id, origin_signature)
            if group is not target:
                merged_away.append(group.group_id)
        regrouped += [
            (k, group_id, _score(single_signatures[k], origin_signature)) for k in singles
        ]
        rows += [
            NewRow(keys[i], sigs[i].tobytes(), group_id, _score(sigs[i], origin_signature))
            for i in new
        ]
        size = sum(g.size for g in old_groups) + len(singles) + len(new)
        groups.append(Group(group_id, origin, origin_signature, size))
    for i, key in enumerate(keys):
        if i not in sigs:
            rows.append(NewRow(key, None, None, None))
    held = Counter((bucket, sets.find(node)) for bucket, node in stored_holders)
    bucket_rows = _holdings(
        held,
        (
            (sets.find(("new", i)), keys[i], values)
            for i, values in page_buckets.items()
            if i not in redundant
        ),
    )
    return Grouped(rows, regrouped, rescore, groups, merged_away, bucket_rows)


def _holdings(
    held: Counter, members: Iterable[tuple[Any, Key, Iterable[int]]]
) -> list[tuple[int, Key]]:
    """The bucket rows to store for ``members`` (group, key, bucket values), in order: a
    member holds a bucket unless its group already has ``MAX_TRIES_PER_GROUP`` holders of
    it (``held``, counted per (bucket, group) and updated)."""
    rows = []
    for group, key, values in members:
        for value in values:
            if held[value, group] < MAX_TRIES_PER_GROUP:
                held[value, group] += 1
                rows.append((value, key))
    return rows


def repair_after_prune(conn: psycopg.Connection) -> None:
    """After members were pruned (their marker rows in pg_temp.pruned_markers): the groups
    they were in get back their buckets' holders from the remaining members, the earliest
    first, and are repaired (sizes, first records, scores, groups of one dissolved)."""
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT group_id FROM pg_temp.pruned_markers WHERE group_id IS NOT NULL"
        )
    ]
    if ids:
        members = conn.execute(_sql("near_dup_holdings.sql"), {"groups": ids}).fetchall()
        held = Counter((bucket, group) for *_, group, holds in members for bucket in holds)
        added = _holdings(
            held,
            (
                (group, (record_id, published_at),
                 [v for v in buckets(_from_bytes(raw)) if v not in holds])
                for record_id, published_at, raw, group, holds in members
            ),
        )  # fmt: skip
        if added:
            conn.execute(
                _sql("near_dup_add_buckets.sql"),
                {
                    "buckets": [bucket for bucket, _ in added],
                    "record_ids": [key[0] for _, key in added],
                    "published_ats": [key[1] for _, key in added],
                },
            )
    conn.execute(_sql("near_dup_repair_groups.sql"))


def _score(signature: np.ndarray, origin_signature: np.ndarray) -> float:
    return round(jaccard(signature, origin_signature), 4)


def write_groups(conn: psycopg.Connection, grouped: Grouped) -> int:
    """Store the page's effect on stored rows and groups (its own rows are COPYed after);
    the number of stored rows regrouped or re-scored."""
    regrouped = len(grouped.regrouped)
    for chunk in _rescored_members(conn, grouped.rescored):
        _regroup(conn, chunk)
        regrouped += len(chunk)
    if grouped.merged_away:
        conn.execute(
            "DELETE FROM enrichment_near_dup_groups WHERE group_id = ANY(%s::uuid[])",
            [grouped.merged_away],
        )
    if grouped.regrouped:
        _regroup(conn, grouped.regrouped)
    if grouped.groups:
        conn.execute(
            _sql("near_dup_upsert_groups.sql"),
            {
                "group_ids": [g.group_id for g in grouped.groups],
                "origin_ids": [g.origin[0] for g in grouped.groups],
                "origin_ats": [g.origin[1] for g in grouped.groups],
                "origin_signatures": [g.origin_signature.tobytes() for g in grouped.groups],
                "sizes": [g.size for g in grouped.groups],
            },
        )
    return regrouped


def _rescored_members(
    conn: psycopg.Connection, rescored: dict[UUID, tuple[UUID, np.ndarray]]
) -> Iterator[list[tuple[Key, UUID, float]]]:
    """The re-scored rows of the members of ``rescored`` groups, a chunk at a time from a
    server-side cursor: a group of many thousand members is never held at once."""
    if not rescored:
        return
    with conn.cursor(name="near_dup_rescored") as cur:
        cur.execute(_sql("near_dup_members.sql"), {"groups": sorted(rescored, key=str)})
        while rows := cur.fetchmany(RESCORE_CHUNK):
            chunk = []
            for record_id, published_at, raw, old_group in rows:
                group_id, origin_signature = rescored[old_group]
                chunk.append(
                    ((record_id, published_at), group_id,
                     _score(_from_bytes(raw), origin_signature))
                )  # fmt: skip
            yield chunk


def _regroup(conn: psycopg.Connection, regrouped: list[tuple[Key, UUID, float]]) -> None:
    conn.execute(
        _sql("near_dup_regroup.sql"),
        {
            "record_ids": [key[0] for key, _, _ in regrouped],
            "published_ats": [key[1] for key, _, _ in regrouped],
            "group_ids": [group for _, group, _ in regrouped],
            "jaccards": [score for _, _, score in regrouped],
        },
    )
