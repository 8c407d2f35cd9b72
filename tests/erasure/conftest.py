"""A corpus with one person to erase, stored through the real enrichment and ingest.

| person | actor (presences)                                   | records (month → partition)                  |
|--------|-----------------------------------------------------|----------------------------------------------|
| Jens   | yes: bluesky did:plc:jenstestesen, reddit t2_jenst… | bluesky Feb, Mar, Jun (default); reddit Apr  |
| Oda    | yes: bluesky did:plc:odaolsen                       | bluesky Feb, Apr                             |
| Quinn  | no (a bluesky user only)                            | bluesky Mar, Apr                             |
| Karl   | no (a reddit user only)                             | reddit Mar, Apr                              |
| –      | RSS articles without author                         | Feb, Mar                                     |

Designs: D1 (owner U1) collects Jens ×4, Oda Feb, Quinn Mar, Karl Mar; D2 (owner U2)
collects Jens Feb again (a second link to the stored copy), Karl Mar again, Oda Apr, Quinn Apr;
D3 (owner U1) collects the RSS articles and Karl Apr: it never holds Jens. Jens and Oda are
members of D1's actor list; Jens has an alias.
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm
from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.db.introspect import application_tables
from observatory_pipelines.security.pseudonymize import pseudonymize

PSEUDO_KEY = "erasure-test-pseudonymization-key"
COLLECTED_AT = datetime(2026, 6, 20, 12, tzinfo=UTC)
TERMS = ["klima", "energi"]

JENS_BLUESKY = "did:plc:jenstestesen"
JENS_REDDIT = "t2_jenstestesen"
JENS_HANDLE = "jens-testesen.bsky.social"
JENS_REDDIT_NAME = "jenstestesen_dk"
JENS_NAME = "Jens Testesen"
JENS_ALIAS = "J. Testesen"
JENS_MARKER = "jensmarkør"  # in the text of each of his posts only
QUINN_BLUESKY = "did:plc:quinnqvist"
QUINN_HANDLE = "quinn-qvist.bsky.social"
QUINN_NAME = "Quinn Qvist"


@pytest.fixture(autouse=True)
def pseudonymization_key(monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", PSEUDO_KEY)
    return PSEUDO_KEY.encode()


def _t(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=UTC)


def _post(platform, n, author, handle, name, published, marker="") -> NormalizedRecord:
    return NormalizedRecord(
        platform=platform,
        arena="social_media",
        content_type="post",
        platform_id=f"{platform}-post-{n}",
        published_at=published,
        url=f"https://{platform}.example/p/{n}",
        text_content=f"Indlæg {n} om klima og energi {marker}".strip(),
        author_platform_id=author,
        author_display_name=name,
        likes_count=n,
        shares_count=1,
        comments_count=0,
        raw_metadata={"handle": handle},
    )


def _article(n: int, published: datetime) -> NormalizedRecord:
    return NormalizedRecord(
        platform="rss_feeds",
        arena="news_media",
        content_type="article",
        platform_id=f"guid-{n}",
        published_at=published,
        url=f"https://www.dr.dk/nyheder/{n}",
        title=f"Artikel {n} om klima",
        text_content=f"Brødtekst {n} om energi",
        hash_source=f"Artikel {n} om klima",
    )


def jens(n: int, month: int, platform: str = "bluesky") -> NormalizedRecord:
    if platform == "reddit":
        return _post(
            "reddit", n, JENS_REDDIT, JENS_REDDIT_NAME, JENS_NAME, _t(month, 5), JENS_MARKER
        )
    return _post("bluesky", n, JENS_BLUESKY, JENS_HANDLE, JENS_NAME, _t(month, 3), JENS_MARKER)


def oda(n: int, month: int) -> NormalizedRecord:
    return _post("bluesky", n, "did:plc:odaolsen", "oda.bsky.social", "Oda Olsen", _t(month, 8))


def quinn(n: int, month: int) -> NormalizedRecord:
    return _post("bluesky", n, QUINN_BLUESKY, QUINN_HANDLE, QUINN_NAME, _t(month, 12))


def karl(n: int, month: int) -> NormalizedRecord:
    return _post("reddit", n, "t2_karlkarlsen", "karl_k", "Karl Karlsen", _t(month, 15))


@dataclass
class Corpus:
    owner1: str
    owner2: str
    d1: str
    d2: str
    d3: str
    jens_actor: str
    oda_actor: str
    jens_pseudonyms: tuple[str, ...]
    quinn_pseudonym: str
    runs: dict[str, str] = field(default_factory=dict)

    @property
    def designs(self) -> list[str]:
        return [self.d1, self.d2, self.d3]

    def owner_of(self, design: str) -> str:
        return self.owner2 if design == self.d2 else self.owner1

    def jens_needles(self) -> list[str]:
        return [
            JENS_BLUESKY,
            JENS_REDDIT,
            JENS_HANDLE,
            JENS_REDDIT_NAME,
            JENS_NAME,
            JENS_ALIAS,
            JENS_MARKER,
            *self.jens_pseudonyms,
        ]

    def quinn_needles(self) -> list[str]:
        return [QUINN_BLUESKY, QUINN_HANDLE, QUINN_NAME, self.quinn_pseudonym]


def _scalar(conn, sql: str, **params):
    return str(conn.execute(text(sql), params).scalar_one())


def _ingest(engine, design: str, run: str, records: list[NormalizedRecord]) -> None:
    enricher = Enricher(engine, [SearchTerm(t) for t in TERMS])
    with BulkIngester(engine, run_id=run, query_design_id=design) as ingester:
        ingester.write(enricher.rows(records, COLLECTED_AT))


@pytest.fixture()
def corpus(db, pseudonymization_key) -> Corpus:
    with db.begin() as conn:
        owner1 = _scalar(conn, "INSERT INTO users (email) VALUES ('u1@example.org') RETURNING id")
        owner2 = _scalar(conn, "INSERT INTO users (email) VALUES ('u2@example.org') RETURNING id")
        designs = {}
        for name, owner in (("D1", owner1), ("D2", owner2), ("D3", owner1)):
            designs[name] = _scalar(
                conn,
                "INSERT INTO query_designs (owner_id, name) VALUES (:o, :n) RETURNING id",
                o=owner,
                n=f"Design {name}",
            )
            for term in TERMS:
                conn.execute(
                    text("INSERT INTO search_terms (query_design_id, term) VALUES (:d, :t)"),
                    {"d": designs[name], "t": term},
                )
        jens_actor = _scalar(
            conn, "INSERT INTO actors (canonical_name) VALUES (:n) RETURNING id", n=JENS_NAME
        )
        oda_actor = _scalar(
            conn, "INSERT INTO actors (canonical_name) VALUES ('Oda Olsen') RETURNING id"
        )
        conn.execute(
            text("INSERT INTO actor_aliases (actor_id, alias) VALUES (:a, :n)"),
            {"a": jens_actor, "n": JENS_ALIAS},
        )
        for actor, platform, user, username in (
            (jens_actor, "bluesky", JENS_BLUESKY, JENS_HANDLE),
            (jens_actor, "reddit", JENS_REDDIT, JENS_REDDIT_NAME),
            (oda_actor, "bluesky", "did:plc:odaolsen", "oda.bsky.social"),
        ):
            conn.execute(
                text(
                    "INSERT INTO actor_platform_presences (actor_id, platform, platform_user_id,"
                    " platform_username, profile_url) VALUES (:a, :p, :u, :n, :url)"
                ),
                {"a": actor, "p": platform, "u": user, "n": username, "url": f"https://x/{user}"},
            )
        actor_list = _scalar(
            conn,
            "INSERT INTO actor_lists (query_design_id, name) VALUES (:d, 'Debattører') "
            "RETURNING id",
            d=designs["D1"],
        )
        for actor in (jens_actor, oda_actor):
            conn.execute(
                text("INSERT INTO actor_list_members (actor_list_id, actor_id) VALUES (:l, :a)"),
                {"l": actor_list, "a": actor},
            )
        runs = {
            name: _scalar(
                conn,
                "INSERT INTO collection_runs (initiated_by, query_design_id, status) "
                "VALUES (:u, :d, 'completed') RETURNING id",
                u=owner2 if name == "D2" else owner1,
                d=design,
            )
            for name, design in designs.items()
        }
    _ingest(
        db,
        designs["D1"],
        runs["D1"],
        [
            jens(1, 2),
            jens(2, 3),
            jens(3, 4, "reddit"),
            jens(4, 6),  # no June partition: the default
            oda(5, 2),
            quinn(6, 3),
            karl(7, 3),
        ],
    )
    _ingest(db, designs["D2"], runs["D2"], [jens(1, 2), karl(7, 3), oda(8, 4), quinn(9, 4)])
    _ingest(
        db,
        designs["D3"],
        runs["D3"],
        [_article(10, _t(2, 20)), _article(11, _t(3, 20)), karl(12, 4)],
    )
    key = pseudonymization_key
    return Corpus(
        owner1=owner1,
        owner2=owner2,
        d1=designs["D1"],
        d2=designs["D2"],
        d3=designs["D3"],
        jens_actor=jens_actor,
        oda_actor=oda_actor,
        jens_pseudonyms=(
            pseudonymize("bluesky", JENS_BLUESKY, key),
            pseudonymize("reddit", JENS_REDDIT, key),
        ),
        quinn_pseudonym=pseudonymize("bluesky", QUINN_BLUESKY, key),
        runs=runs,
    )


# -- what the database and the bucket hold, to compare before and after -------------------------


def row_hashes(engine) -> dict[str, dict[str, int]]:
    """Per application table: md5 of every row's text form → how many such rows."""
    snapshot: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for table in application_tables(engine):
            rows = conn.execute(
                text(f'SELECT md5(t::text), count(*) FROM "{table}" AS t GROUP BY 1')
            ).all()
            snapshot[table] = {digest: int(n) for digest, n in rows}
    return snapshot


def tables_mentioning(engine, needles: list[str]) -> dict[str, int]:
    """Rows of any application table (every column, jsonb and arrays included) that contain any
    needle, case-insensitively; partitions detached or not are application tables too."""
    found: dict[str, int] = {}
    with engine.connect() as conn:
        for table in application_tables(engine):
            n = conn.execute(
                text(f'SELECT count(*) FROM "{table}" AS t WHERE t::text ILIKE ANY (:patterns)'),
                {"patterns": [f"%{needle}%" for needle in needles]},
            ).scalar_one()
            if n:
                found[table] = int(n)
    return found


def object_hashes(store) -> dict[str, str]:
    return {
        info.key: hashlib.sha256(store.get_bytes(info.key)).hexdigest() for info in store.list()
    }


def readable_text(data: bytes, key: str) -> str:
    """The object's text as far as it can be searched: gzip opened; zip/parquet left as bytes."""
    if key.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace").casefold()


def mentions(data: bytes, key: str, needles: list[str]) -> list[str]:
    body = readable_text(data, key)
    return [needle for needle in needles if needle.casefold() in body]


def new_uuid() -> str:
    return str(uuid.uuid4())
