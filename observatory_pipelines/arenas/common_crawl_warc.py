"""One Common Crawl WARC record: a gzip member holding WARC headers, HTTP headers, body.

warcio (Apache-2.0) would do this, but it is not in the lock and one record read by byte
range needs only this much: each record of a ``.warc.gz`` is its own gzip member (the
index's offset/length point at exactly one), inside it the WARC header block (``WARC/1.0``
then ``Name: value`` lines, a blank line), then for ``WARC-Type: response`` the HTTP
response as the crawler received it (status line, headers, blank line, payload).

Common Crawl stores payloads with the transfer and content encodings removed and renames
those headers (``X-Crawler-Transfer-Encoding``, ``X-Crawler-Content-Encoding``); older
crawls kept them, so a payload still marked ``chunked`` or ``gzip`` is decoded here.
Decompression is bounded (``max_bytes``): a record that inflates past it is refused.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field

WARC_MAGIC = b"WARC/"


class WarcUnreadable(ValueError):
    """The bytes are not one readable gzipped WARC response record."""


@dataclass
class WarcResponse:
    warc_headers: dict[str, str]
    http_status: int | None
    http_headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""


def _inflate(data: bytes, max_bytes: int, what: str) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper, one member
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise WarcUnreadable(f"{what} is not gzip data ({exc})") from None
    if len(out) > max_bytes:
        raise WarcUnreadable(f"{what} inflates past {max_bytes // (1024 * 1024)} MB, refused")
    if not inflater.eof:
        raise WarcUnreadable(f"{what} is a truncated gzip member")
    return out


def _headers(block: bytes) -> tuple[str, dict[str, str]]:
    lines = block.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _split(data: bytes, what: str) -> tuple[bytes, bytes]:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise WarcUnreadable(f"{what}: no blank line after the headers")
    return data[:end], data[end + 4 :]


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    rest = body
    while rest:
        line_end = rest.find(b"\r\n")
        if line_end < 0:
            break
        size_text = rest[:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return body  # not chunked after all: keep the bytes as they are
        if size == 0:
            break
        start = line_end + 2
        out += rest[start : start + size]
        rest = rest[start + size + 2 :]
    return bytes(out)


def read_response(data: bytes, max_bytes: int) -> WarcResponse:
    """The record's WARC headers, HTTP status and headers, and the decoded payload."""
    record = _inflate(data, max_bytes, "WARC record")
    if not record.startswith(WARC_MAGIC):
        raise WarcUnreadable("the record does not start with a WARC version line")
    warc_block, rest = _split(record, "WARC record")
    _, warc_headers = _headers(warc_block)
    length = warc_headers.get("content-length")
    if length is not None and length.isdigit():
        rest = rest[: int(length)]
    if warc_headers.get("warc-type", "").lower() != "response":
        return WarcResponse(warc_headers, None, {}, rest)
    http_block, payload = _split(rest, "HTTP response in the WARC record")
    status_line, http_headers = _headers(http_block)
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    if "chunked" in http_headers.get("transfer-encoding", "").lower():
        payload = _dechunk(payload)
    if http_headers.get("content-encoding", "").lower() in ("gzip", "x-gzip"):
        try:
            payload = gzip.decompress(payload)[: max_bytes + 1]
        except (OSError, EOFError):
            pass  # the header lied: the bytes are kept as they came
        if len(payload) > max_bytes:
            raise WarcUnreadable(f"payload inflates past {max_bytes // (1024 * 1024)} MB")
    return WarcResponse(warc_headers, status, http_headers, payload)
