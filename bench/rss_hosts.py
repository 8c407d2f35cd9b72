"""Feed hosts for bench/rss_fetch.py's collection scenario: one asyncio process serving
many hosts (one port each on 127.0.0.1), so the servers' own CPU stays out of the
collector's process and its GIL.

Reads one JSON line on stdin (``ports``, ``feeds_per_host``, ``items``, ``matching``,
``latency``, ``round``), answers ``GET /feed<n>`` on each port after ``latency`` seconds
(HTTP/1.1 keep-alive, ETag and Last-Modified as real feeds send), prints ``ready``, and on
the next stdin line (or end of stdin) prints the request timeline as one JSON line —
``[port, path, start, end]`` with ``time.monotonic()`` when the request arrived and when
its reply was about to be written — and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

FILLER = (
    "Regeringen og oppositionen drøftede i går forslaget om nye regler for kommunernes "
    "økonomi, og flere borgmestre kalder udspillet for et skridt i den rigtige retning. "
    "Forhandlingerne fortsætter i næste uge, oplyser ministeriet til Ritzau. "
)


def feed_body(round_: int, host: int, feed: int, items: int, matching: int) -> bytes:
    """A 20-entry news feed as Danish outlets publish them; ``matching`` entries a feed
    mention Grønland (what a term search keeps), the rest are other news."""
    entries = []
    for n in range(items):
        topic = "Grønland" if n < matching else "kommunerne"
        entries.append(
            f'<item><guid isPermaLink="false">r{round_}-h{host}-f{feed}-{n}</guid>'
            f"<title>Nyt om {topic}: sag {host}/{feed}/{n}</title>"
            f"<link>https://www.avis{host}.dk/nyheder/{round_}/{feed}/{n}</link>"
            f"<description>{topic}. {FILLER}</description>"
            f"<author>redaktion@avis{host}.dk (Jens Hansen)</author>"
            f"<category>Indland</category>"
            f"<pubDate>Tue, 03 Mar 2026 {n % 24:02d}:{feed % 60:02d}:00 +0100</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Avis {host}</title><link>https://www.avis{host}.dk/</link>"
        f"<language>da</language>{''.join(entries)}</channel></rss>"
    ).encode()


async def serve(config: dict) -> None:
    timeline: list[list] = []
    latency = float(config["latency"])
    servers = []
    for host, (port, feeds) in enumerate(
        zip(config["ports"], config["feeds_per_host"], strict=True)
    ):
        bodies = {
            f"/feed{f}": feed_body(config["round"], host, f, config["items"], config["matching"])
            for f in range(feeds)
        }

        async def handle(reader, writer, port=port, bodies=bodies, host=host):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    start = time.monotonic()
                    path = head.split(b" ", 2)[1].decode()
                    body = bodies.get(path, b"")
                    await asyncio.sleep(latency)
                    timeline.append([port, path, start, time.monotonic()])
                    status = b"200 OK" if body else b"404 Not Found"
                    writer.write(
                        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/rss+xml\r\n"
                        + f'ETag: "{config["round"]}-{host}-{path}"\r\n'.encode()
                        + b"Last-Modified: Tue, 03 Mar 2026 12:00:00 GMT\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
                    )  # fmt: skip
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                pass  # the client went away, or the hosts are shutting down
            finally:
                writer.close()

        servers.append(await asyncio.start_server(handle, "127.0.0.1", port, backlog=128))
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for server in servers:
        server.close()
    print(json.dumps(timeline), flush=True)


if __name__ == "__main__":
    asyncio.run(serve(json.loads(sys.stdin.readline())))
