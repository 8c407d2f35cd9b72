"""The curated default list of Danish news feeds (spec: arenas.md, RSS).

Keys are ``<outlet>_<section>``; the part before the first ``_`` is the outlet
prefix that actor mode accepts (``dr`` selects every DR feed). Feeds the original
dropped for timeouts or 405s (Fyens, Kristeligt Dagblad, DTU, CBS) are left out.
"""

from __future__ import annotations

_DR = "https://www.dr.dk/nyheder/service/feeds/"
_DR_SECTIONS = (
    "allenyheder",
    "indland",
    "udland",
    "penge",
    "politik",
    "viden",
    "kultur",
    "senestenyt",
    "sporten",
)
_DR_REGIONS = (
    "bornholm",
    "fyn",
    "kbh",
    "vest",
    "nord",
    "sjaelland",
    "syd",
    "trekanten",
    "oestjylland",
)

OUTLET_NAMES: dict[str, str] = {
    "dr": "DR",
    "tv2": "TV 2",
    "bt": "B.T.",
    "politiken": "Politiken",
    "berlingske": "Berlingske",
    "ekstrabladet": "Ekstra Bladet",
    "information": "Information",
    "jp": "Jyllands-Posten",
    "nordjyske": "Nordjyske",
    "borsen": "Børsen",
    "altinget": "Altinget",
    "folkeskolen": "Folkeskolen",
    "gymnasieskolen": "Gymnasieskolen",
    "ku": "Københavns Universitet",
}

DANISH_FEEDS: dict[str, str] = {
    **{f"dr_{s}": f"{_DR}{s}" for s in _DR_SECTIONS},
    **{f"dr_regionale_{r}": f"{_DR}regionale/{r}" for r in _DR_REGIONS},
    "tv2_nyheder": "https://feeds.services.tv2.dk/api/feeds/nyheder/rss",
    "bt_seneste": "https://www.bt.dk/bt/seneste/rss",
    "politiken_senestenyt": "http://politiken.dk/rss/senestenyt.rss",
    "berlingske_all": "https://www.berlingske.dk/content/rss",
    "ekstrabladet_all": "https://ekstrabladet.dk/rssfeed/all/",
    "information_all": "http://www.information.dk/feed",
    "jp_seneste": "https://newsletter-proxy.aws.jyllands-posten.dk/v1/latestNewsRss/jyllands-posten.dk?count=100",
    "nordjyske_nyheder": "https://nordjyske.dk/rss/nyheder",
    "borsen_all": "https://borsen.dk/rss",
    "altinget_all": "https://www.altinget.dk/rss",
    "altinget_uddannelse": "https://www.altinget.dk/uddannelse/rss",
    "altinget_klima": "https://www.altinget.dk/klima/rss",
    "folkeskolen_all": "https://www.folkeskolen.dk/rss",
    "gymnasieskolen_all": "https://gymnasieskolen.dk/feed",
    "ku_nyheder": "https://nyheder.ku.dk/alle_nyheder/?get_rss=1",
}


def outlet_of(feed_key: str) -> str:
    return feed_key.split("_", 1)[0]


def outlet_name(feed_key: str) -> str:
    outlet = outlet_of(feed_key)
    return OUTLET_NAMES.get(outlet, outlet)
