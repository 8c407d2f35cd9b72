"""A synthetic corpus of Danish public debate: news articles and social posts over months.

Deterministic: the same ``CorpusConfig`` (seed, end date, days, scale) gives the same items,
byte for byte, on every machine (``random.Random`` seeded with a string is stable across
runs and Python builds). It has the shapes the analyses are about:

- **skewed actor activity**: each platform's authors post with Zipf weights (rank ``k``
  posts in proportion to ``1/k**zipf_s``): a few accounts write most posts;
- **term co-occurrence**: a post is about one topic and names one to three of its search
  terms, and now and then a term of a second topic (``cross_topic``);
- **heavy-tailed engagement**: likes, reposts and comments are Pareto-distributed;
- **shared URLs**: social posts link news articles, the popular ones far more often;
- **a spike**: on ``spike_days`` days ``spike_days_before_end`` days before the end, posts
  about ``danish.SPIKE_TOPIC`` multiply by ``spike_factor``;
- a weekly rhythm (quieter weekends) and a little English.

Items are produced day by day and streamed (``iter_items``): memory holds one day and a
bounded pool of recent articles, so ``bench/`` can draw a million records from it. The
public actors (``danish.PUBLIC_ACTORS``) post on every social platform under the same name,
so the demo can show cross-platform actors; ``public_actor_presences`` lists their ids.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from observatory_pipelines.demo import danish

SOCIAL_PLATFORMS = ("bluesky", "reddit", "x_twitter")
# Posts per ordinary weekday at scale 1 (the demo's size: a few thousand records).
DAILY_RATE = {"news": 6.0, "bluesky": 9.0, "reddit": 5.0, "x_twitter": 4.0}
# Authors per platform (ranked by activity); the first ones are the public actors.
AUTHORS = {"news": 40, "bluesky": 400, "reddit": 300, "x_twitter": 200}
RECENT_ARTICLES = 400  # the pool social posts link from


@dataclass(frozen=True)
class CorpusConfig:
    seed: int = 1729
    end: date = date(2026, 11, 30)  # last day included
    days: int = 120
    scale: float = 1.0  # multiplies every daily rate
    zipf_s: float = 1.1
    pareto_alpha: float = 1.4
    cross_topic: float = 0.25
    spike_days_before_end: int = 35
    spike_days: int = 3
    spike_factor: float = 8.0
    english_share: float = 0.04
    news_authors: int = AUTHORS["news"]  # bench/ asks for more bylines than the demo's 40

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def spike_dates(self) -> list[date]:
        first = self.end - timedelta(days=self.spike_days_before_end)
        return [first + timedelta(days=n) for n in range(self.spike_days)]


@dataclass(frozen=True)
class Author:
    platform: str
    rank: int  # 1 = most active
    user_id: str
    handle: str
    display_name: str
    public_actor: str | None = None  # the fictional public figure this account belongs to


@dataclass
class Item:
    """One article or post, in neutral form; ``demo.files`` writes it as a feed or a file."""

    kind: str  # "news" or a social platform
    item_id: str
    published_at: datetime
    author: Author
    text: str
    url: str
    topic: str
    terms: list[str]
    title: str | None = None
    outlet_key: str | None = None  # news: the feed it was published in
    language: str = "da"
    likes: int | None = None
    shares: int | None = None
    comments: int | None = None
    views: int | None = None
    shared_url: str | None = None  # a news article this post links
    community: str | None = None  # reddit: the subreddit
    tags: list[str] = field(default_factory=list)


def _id(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16]


def _slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", " ": "-"})
    return "".join(c for c in text.lower().translate(table) if c.isalnum() or c == "-")


def _authors(platform: str, count: int, rng: random.Random) -> list[Author]:
    names = danish.PUBLIC_ACTORS if platform != "news" else ()  # journalists are not actors
    authors = []
    for rank in range(1, count + 1):
        public = names[rank - 1][0] if rank <= len(names) else None
        if public:
            display = public
        else:
            display = f"{rng.choice(danish.FIRST_NAMES)} {rng.choice(danish.SURNAMES)}"
        slug = _slug(display)
        if platform == "bluesky":
            handle, user_id = f"{slug}{rank}.bsky.social", f"did:plc:{_id('bsky', rank, slug)}"
        elif platform == "reddit":
            handle, user_id = f"{slug.replace('-', '_')}_{rank}", f"t2_{_id('reddit', rank)[:8]}"
        elif platform == "x_twitter":
            handle = f"{slug.replace('-', '')[:12]}{rank}"
            user_id = str(int(_id("x", rank), 16) % 10**18)
        else:
            handle, user_id = slug, f"journalist-{rank}"
        authors.append(Author(platform, rank, user_id, handle, display, public))
    return authors


def public_actor_presences(config: CorpusConfig) -> list[tuple[str, str, str, str]]:
    """(actor name, actor type, platform, platform user id) of every public actor's account."""
    kinds = dict(danish.PUBLIC_ACTORS)
    generator = Corpus(config)
    return [
        (a.public_actor, kinds[a.public_actor], a.platform, a.user_id)
        for platform in SOCIAL_PLATFORMS
        for a in generator.authors[platform]
        if a.public_actor
    ]


def _written(terms: list[str], text: str) -> list[str]:
    """The drawn terms the filled template did use (a template may leave one out)."""
    lowered = text.lower()
    return [t for t in dict.fromkeys(terms) if t in lowered]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation: Knuth's loop would underflow
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class Corpus:
    """The generator; ``iter_items()`` streams the corpus in publication-day order."""

    def __init__(self, config: CorpusConfig = CorpusConfig()):
        self.config = config
        seed_rng = random.Random(f"{config.seed}:authors")
        counts = {**AUTHORS, "news": config.news_authors}
        self.authors = {p: _authors(p, n, seed_rng) for p, n in counts.items()}
        self._cum = {
            p: list(itertools.accumulate(1 / (k**config.zipf_s) for k in range(1, n + 1)))
            for p, n in counts.items()
        }
        self._share_cum = list(itertools.accumulate(1 / r for r in range(1, RECENT_ARTICLES + 1)))
        self._outlet_weights = [1.0 / k for k in range(1, len(danish.OUTLETS) + 1)]
        self.topics = {t.name: t for t in danish.TOPICS}
        self.search_terms = sorted({term for t in danish.TOPICS for term in t.terms})

    # --- drawing ---

    def _author(self, rng: random.Random, platform: str) -> Author:
        return rng.choices(self.authors[platform], cum_weights=self._cum[platform])[0]

    def _topic(self, rng: random.Random, day: date) -> danish.Topic:
        spike = day in self.config.spike_dates
        weights = [
            t.weight * (self.config.spike_factor if spike and t.name == danish.SPIKE_TOPIC else 1)
            for t in danish.TOPICS
        ]
        return rng.choices(danish.TOPICS, weights=weights)[0]

    def _engagement(self, rng: random.Random, base: float) -> int:
        # Pareto(alpha) >= 1: most posts get ~nothing, a few go viral.
        return int(base * (rng.paretovariate(self.config.pareto_alpha) - 1))

    def _terms(self, rng: random.Random, topic: danish.Topic) -> list[str]:
        if not topic.terms:
            return []
        count = rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]
        terms = [topic.terms[0]] + rng.sample(topic.terms[1:], min(count - 1, len(topic.terms) - 1))
        if rng.random() < self.config.cross_topic:
            other = rng.choice([t for t in danish.TOPICS if t.terms and t.name != topic.name])
            terms.append(rng.choice(other.terms))
        return terms

    def _fill(self, rng: random.Random, template: str, terms: list[str], link: str = "") -> str:
        padded = [danish.WRITTEN.get(t, t) for t in terms or ["debatten"]] * 3
        text = template.format(
            term=padded[0],
            term2=padded[1],
            term3=padded[2],
            who=rng.choice(danish.PUBLIC_ACTORS)[0],
            place=rng.choice(danish.PLACES),
            num=rng.choice((3, 7, 12, 18, 25, 40, 65, 85)),
            party=rng.choice(danish.PARTIES),
            link=link,
        ).strip()
        return text[:1].upper() + text[1:]

    def _headline(self, rng: random.Random, topic: danish.Topic) -> str:
        return (
            rng.choice(danish.HEADLINE_PREFIXES)
            + rng.choice(topic.headlines)
            + rng.choice(danish.HEADLINE_SUFFIXES)
        )

    def _moment(self, rng: random.Random, day: date, kind: str) -> datetime:
        # News from 6 to 22, social later into the evening; seconds keep ids apart.
        hour = rng.triangular(6, 22, 9) if kind == "news" else rng.triangular(7, 24, 20)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(seconds=int(min(hour, 23.99) * 3600) + rng.randrange(60))

    def _daily(self, rng: random.Random, kind: str, day: date) -> int:
        weekend = 0.55 if day.weekday() >= 5 else 1.0
        mean = DAILY_RATE[kind] * self.config.scale * weekend
        count = _poisson(rng, mean)
        if day in self.config.spike_dates:  # the burst adds posts, it does not move them
            count += _poisson(rng, mean * (self.config.spike_factor - 1) * 0.5)
        return count

    # --- items ---

    def _article(self, rng: random.Random, day: date, n: int) -> Item:
        topic = self._topic(rng, day)
        terms = self._terms(rng, topic)
        key, _outlet, section, host = rng.choices(danish.OUTLETS, weights=self._outlet_weights)[0]
        if topic.name == "grønland" and rng.random() < 0.5:
            key, _outlet, section, host = danish.OUTLETS[5]  # the Arctic outlet covers it most
        title = self._fill(rng, self._headline(rng, topic), terms)
        body = " ".join(
            self._fill(rng, s, terms)
            for s in rng.sample(topic.sentences, min(3, len(topic.sentences)))
        )
        item_id = _id("news", day, n, title)
        url = f"https://{host}/{_slug(section)}/{day.isoformat()}/{_slug(title)[:60]}-{item_id[:6]}"
        return Item(
            kind="news",
            item_id=url,
            published_at=self._moment(rng, day, "news"),
            author=self._author(rng, "news"),
            text=body,
            url=url,
            title=title,
            topic=topic.name,
            terms=_written(terms, f"{title} {body}"),
            outlet_key=key,
            tags=[section, topic.name],
        )

    def _post(
        self, rng: random.Random, platform: str, day: date, n: int, articles: deque[Item]
    ) -> Item:
        topic = self._topic(rng, day)
        terms = self._terms(rng, topic)
        shared = None
        if articles and rng.random() < 0.35:
            # Recent, popular articles are shared far more: Zipf over the pool, newest first.
            size = len(articles)
            rank = bisect.bisect(
                self._share_cum, rng.random() * self._share_cum[size - 1], hi=size - 1
            )
            shared = articles[-1 - rank]
        language = "en" if rng.random() < self.config.english_share else "da"
        pool = danish.ENGLISH_SOCIAL if language == "en" and terms else topic.social
        template = rng.choice(pool)
        if language == "da":
            template = rng.choice(danish.SOCIAL_PREFIXES) + template
            template += rng.choice(danish.SOCIAL_SUFFIXES)
        if not terms:
            language = "da"  # no English template without a term: the Danish one was taken
        text = self._fill(rng, template, terms, shared.url if shared else "")
        if shared is None:
            text = " ".join(text.split())
        author = self._author(rng, platform)
        # Public accounts and the most active ones reach more people.
        reach = 40.0 if author.public_actor else 8.0 / math.sqrt(author.rank)
        item_id = _id(platform, day, n, author.user_id)
        item = Item(
            kind=platform,
            item_id=item_id,
            published_at=self._moment(rng, day, platform),
            author=author,
            text=text,
            url="",
            topic=topic.name,
            terms=_written(terms, text),
            language=language,
            likes=self._engagement(rng, reach),
            shares=self._engagement(rng, reach / 4),
            comments=self._engagement(rng, reach / 3),
            shared_url=shared.url if shared else None,
        )
        if platform == "bluesky":
            item.item_id = f"at://{author.user_id}/app.bsky.feed.post/{item_id[:13]}"
            item.url = f"https://bsky.app/profile/{author.handle}/post/{item_id[:13]}"
        elif platform == "reddit":
            item.community = rng.choice(danish.SUBREDDITS)
            item.title = self._fill(rng, self._headline(rng, topic), terms)
            item.item_id = f"t3_{item_id[:7]}"
            item.url = f"https://www.reddit.com/r/{item.community}/comments/{item_id[:7]}/"
        else:
            item.item_id = str(int(item_id, 16) % 10**19)
            item.url = f"https://x.com/{author.handle}/status/{item.item_id}"
            item.views = self._engagement(rng, reach * 30) + rng.randrange(20, 400)
        return item

    def iter_items(self, kinds: tuple[str, ...] = ("news", *SOCIAL_PLATFORMS)) -> Iterator[Item]:
        """Every item, day by day from ``config.start`` to ``config.end``."""
        rngs = {k: random.Random(f"{self.config.seed}:{k}") for k in ("news", *SOCIAL_PLATFORMS)}
        articles: deque[Item] = deque(maxlen=RECENT_ARTICLES)
        for offset in range(self.config.days):
            day = self.config.start + timedelta(days=offset)
            # News is drawn even when not asked for: the posts link it, and the streams
            # stay the same whichever kinds are asked for.
            for n in range(self._daily(rngs["news"], "news", day)):
                article = self._article(rngs["news"], day, n)
                articles.append(article)
                if "news" in kinds:
                    yield article
            for platform in SOCIAL_PLATFORMS:
                rng = rngs[platform]
                for n in range(self._daily(rng, platform, day)):
                    post = self._post(rng, platform, day, n, articles)
                    if platform in kinds:
                        yield post
