"""Parsing Telegram's public channel preview (``https://t.me/s/<channel>``), an HTML page.

The preview is not an API: it is the page a browser shows for a public channel, about 20
messages a page, newest last, older pages at ``?before=<message id>`` (the page's own
"load more" link, ``a.tme_messages_more[data-before]``). The classes read here are the
ones the page has used for years (``tgme_widget_message*``); a page with none of them is
reported as unparseable rather than read as "no messages".

What one message gives (``PreviewMessage``): its ``data-post`` key (``channel/123``), the
text (``<br>`` as line breaks), the ``<time datetime>`` of its date link, the view counter
as shown ("15.3K": rounded by Telegram, so ``views_exact`` says whether it was), "Forwarded
from" (a channel's link, or a hidden sender's name, which is not kept), the message it
replies to, links, hashtags and mentions in the text, reactions with their counts, whether
it was edited, and which media it carries (photo, video, document …; the files themselves
are signed, expiring CDN links and are not collected).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag

# Telegram's username rules: 5–32 characters, letters, digits and underscores, starting
# with a letter (https://core.telegram.org/method/account.checkUsername; channels alike).
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]$")
_COUNT = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([KMB]?)\s*$", re.I)
_POST_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]{3,31})/([0-9]+)$")
_T_ME_POST = re.compile(r"^/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/([0-9]+)/?$")
# Media the preview marks with its own element; the name is what raw_metadata.media_types says.
_MEDIA = (
    ("a", "tgme_widget_message_photo_wrap", "photo"),
    ("a", "tgme_widget_message_video_player", "video"),
    ("div", "tgme_widget_message_roundvideo_player", "round_video"),
    ("a", "tgme_widget_message_voice_player", "voice"),
    ("div", "tgme_widget_message_document", "document"),
    ("div", "tgme_widget_message_poll", "poll"),
    ("a", "tgme_widget_message_location_wrap", "location"),
    ("div", "tgme_widget_message_sticker_wrap", "sticker"),
    ("a", "tgme_widget_message_link_preview", "link_preview"),
)


class PreviewUnreadable(ValueError):
    """The page is HTML, but not a channel preview (no channel header, no messages)."""


class NoPublicPreview(PreviewUnreadable):
    """Telegram's contact page (``tgme_page``): t.me sends a name without a public preview
    (unknown, private, a user, or a channel whose preview is off) from ``/s/<name>`` there."""


@dataclass
class PreviewMessage:
    key: str | None  # data-post "channel/123" (None: the element had none)
    message_id: int | None
    channel: str | None  # the canonical username as the post key spells it
    text: str | None
    published: str | None  # the <time datetime> value as written
    views: int | None
    views_exact: bool
    is_forwarded: bool
    forwarded_from: str | None  # the forwarded channel's username (public channels only)
    forwarded_from_url: str | None
    forwarded_from_title: str | None
    reply_to_msg_id: int | None
    edited: bool
    links: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    media_types: list[str] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    link_preview: dict[str, str] | None = None
    service: bool = False  # "Channel created", "pinned a message", …


@dataclass
class PreviewPage:
    channel_title: str | None
    channel_username: str | None
    subscribers: int | None
    messages: list[PreviewMessage]
    before: int | None  # the "load more" link's id: the next (older) page, None at the end


def parse_count(text: str | None) -> tuple[int | None, bool]:
    """(number, exact) of a counter as the preview shows it: "812", "15.3K", "1.2M"."""
    if not text:
        return None, True
    match = _COUNT.match(text.replace("\u00a0", "").replace(" ", ""))
    if not match:
        return None, True
    number, unit = match.group(1).replace(",", "."), match.group(2).upper()
    scale = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}[unit]
    return int(round(float(number) * scale)), unit == ""


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class") or []
    return list(value) if not isinstance(value, str) else value.split()


def _text_of(node: Tag | None) -> str | None:
    """Visible text with ``<br>`` as line breaks, spaces inside lines collapsed."""
    if node is None:
        return None
    for br in node.find_all("br"):
        br.replace_with("\n")
    lines = [" ".join(line.split()) for line in node.get_text("").split("\n")]
    text = "\n".join(lines).strip()
    return text or None


def _post_of(href: str | None) -> tuple[str, int] | None:
    """(channel, id) of a ``https://t.me/<channel>/<id>`` link."""
    if not href:
        return None
    parts = urlsplit(href)
    match = _T_ME_POST.match(parts.path)
    if not match:
        return None
    return match.group(1), int(match.group(2))


def _message_text(message: Tag) -> Tag | None:
    # The reply quote carries its own tgme_widget_message_text: the message's own is
    # the one marked js-message_text outside the reply block.
    for node in message.find_all("div", class_="tgme_widget_message_text"):
        if "js-message_reply_text" in _classes(node):
            continue
        if node.find_parent("a", class_="tgme_widget_message_reply") is not None:
            continue
        return node
    return None


def _reactions(message: Tag) -> list[dict[str, Any]]:
    found = []
    for span in message.select(".tgme_widget_message_reactions .tgme_reaction"):
        emoji_node = span.find("b") or span.find("i")
        emoji = emoji_node.get_text(strip=True) if emoji_node else None
        if emoji_node is not None:
            emoji_node.extract()
        count, _ = parse_count(span.get_text(strip=True))
        if emoji and count is not None:
            found.append({"emoji": emoji, "count": count})
    return found


def _parse_message(node: Tag) -> PreviewMessage:
    key = node.get("data-post")
    key = str(key).strip() if key else None
    match = _POST_KEY.match(key) if key else None
    channel, message_id = (match.group(1), int(match.group(2))) if match else (None, None)
    date_link = node.select_one(".tgme_widget_message_footer a.tgme_widget_message_date")
    date_link = date_link or node.select_one("a.tgme_widget_message_date")
    time_tag = date_link.find("time") if date_link else None
    published = (
        str(time_tag.get("datetime")).strip() if time_tag and time_tag.get("datetime") else None
    )
    views, exact = parse_count(
        (node.select_one(".tgme_widget_message_views") or Tag(name="x")).get_text(strip=True)
    )
    forwarded = node.select_one(".tgme_widget_message_forwarded_from")
    fwd_link = (
        forwarded.select_one("a.tgme_widget_message_forwarded_from_name") if forwarded else None
    )
    fwd_post = _post_of(fwd_link.get("href")) if fwd_link else None
    fwd_channel = fwd_post[0] if fwd_post else None
    if fwd_link is not None and fwd_channel is None:
        path = urlsplit(str(fwd_link.get("href") or "")).path.strip("/")
        fwd_channel = path if USERNAME.match(path) else None
    reply = node.select_one("a.tgme_widget_message_reply")
    reply_post = _post_of(reply.get("href")) if reply else None
    meta = node.select_one(".tgme_widget_message_meta")
    edited = bool(meta and "edited" in meta.get_text(" ", strip=True).lower())
    text_node = _message_text(node)
    links, hashtags, mentions = [], [], []
    if text_node is not None:
        for anchor in text_node.find_all("a", href=True):
            label = anchor.get_text(strip=True)
            href = str(anchor["href"])
            if label.startswith("#"):
                hashtags.append(label[1:])
            elif label.startswith("@"):
                mentions.append(label[1:])
            elif href.startswith(("http://", "https://")) and href not in links:
                links.append(href)
    media = []
    for tag_name, css, kind in _MEDIA:
        if node.find(tag_name, class_=css) is not None and kind not in media:
            media.append(kind)
    preview = node.select_one("a.tgme_widget_message_link_preview")
    link_preview = None
    if preview is not None:
        link_preview = {"url": str(preview.get("href") or "")}
        for css, name in (
            ("link_preview_site_name", "site_name"),
            ("link_preview_title", "title"),
            ("link_preview_description", "description"),
        ):
            part = preview.find(class_=css)
            if part is not None and part.get_text(strip=True):
                link_preview[name] = part.get_text(" ", strip=True)
    return PreviewMessage(
        key=key,
        message_id=message_id,
        channel=channel,
        text=_text_of(text_node),
        published=published,
        views=views,
        views_exact=exact,
        is_forwarded=forwarded is not None,
        forwarded_from=fwd_channel,
        forwarded_from_url=str(fwd_link.get("href")) if fwd_channel and fwd_link else None,
        # Only a channel's title: a hidden sender's name (no link) is a person's, not kept.
        forwarded_from_title=fwd_link.get_text(" ", strip=True)
        if fwd_channel and fwd_link
        else None,
        reply_to_msg_id=reply_post[1] if reply_post else None,
        edited=edited,
        links=links,
        hashtags=hashtags,
        mentions=mentions,
        media_types=media,
        reactions=_reactions(node),
        link_preview=link_preview,
        service="service_message" in _classes(node),
    )


def parse_preview(html: str) -> PreviewPage:
    """The channel header and the messages of one preview page (PreviewUnreadable if neither)."""
    soup = BeautifulSoup(html, "html.parser")
    info = soup.select_one(".tgme_channel_info")
    nodes = soup.select("div.tgme_widget_message")
    if info is None and not nodes:
        if soup.select_one(".tgme_page") is not None:
            raise NoPublicPreview("Telegram answered with its contact page, not a channel")
        raise PreviewUnreadable("no channel header and no messages in the page")
    title = username = None
    subscribers = None
    if info is not None:
        title_node = info.select_one(".tgme_channel_info_header_title")
        title = title_node.get_text(" ", strip=True) if title_node else None
        user_node = info.select_one(".tgme_channel_info_header_username")
        username = user_node.get_text(strip=True).lstrip("@") if user_node else None
        for counter in info.select(".tgme_channel_info_counter"):
            kind = counter.select_one(".counter_type")
            if kind and kind.get_text(strip=True).lower() in (
                "subscribers",
                "subscriber",
                "members",
            ):
                value = counter.select_one(".counter_value")
                subscribers, _ = parse_count(value.get_text(strip=True) if value else None)
    more = soup.select_one("a.tme_messages_more[data-before]")
    before = None
    if more is not None:
        raw = str(more.get("data-before") or "")
        before = int(raw) if raw.isdigit() else None
    return PreviewPage(
        channel_title=title or None,
        channel_username=unquote(username) if username else None,
        subscribers=subscribers,
        messages=[_parse_message(n) for n in nodes],
        before=before,
    )
