"""COPY streams parsed by Arrow's CSV reader, several chunks of whole rows at a time.

The chunks come from ``exports.copy_stream``: each holds whole rows, because Postgres sends
one CopyData message per row ("messages sent from the backend will always correspond to
single data rows", protocol docs, COPY operations) and the chunks are cut between messages.
Consecutive chunks are parsed together, ~4 MB per ``read_csv`` call in blocks of 2 MB:
making a reader costs about as much as parsing a 1 MB block (one reader per ~1 MB chunk
took ~3x the parse time of 8 MB groups), and Arrow's streaming reader over a Python file,
as fast, held ~40 MB more memory at its peak.

Arrow needs every row to fit in a read block: a record larger than the block (a 3 MB
article) would fail the export with "straddling object straddles two block boundaries". A
chunk larger than the block (it may hold such a row) is therefore parsed on its own with a
block that holds it. Memory stays ~ one group of chunks, or the one large chunk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

BLOCK_BYTES = 2 << 20  # > the ~1 MB chunks plus one ordinary row
GROUP_BYTES = 4 << 20  # chunks parsed by one read_csv call (8 MB: +20 MB peak RSS)


def read_batches(
    chunks: Iterable[bytes],
    names: Sequence[str],
    *,
    parse_options: pacsv.ParseOptions,
    convert_options: pacsv.ConvertOptions,
    group_bytes: int = GROUP_BYTES,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a COPY stream in chunks of whole rows (see the module docstring)."""

    def parse(data: bytes, block_size: int) -> list[pa.RecordBatch]:
        return pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                column_names=list(names), block_size=block_size, use_threads=False
            ),
            parse_options=parse_options,
            convert_options=convert_options,
        ).to_batches()

    group: list[bytes] = []
    size = 0
    for chunk in chunks:
        if len(chunk) > BLOCK_BYTES:
            if group:
                yield from parse(b"".join(group), BLOCK_BYTES)
                group, size = [], 0
            yield from parse(chunk, len(chunk) + 1)
            continue
        group.append(chunk)
        size += len(chunk)
        if size >= group_bytes:
            yield from parse(b"".join(group), BLOCK_BYTES)
            group, size = [], 0
    if group:
        yield from parse(b"".join(group), BLOCK_BYTES)


_END = object()


def read_ahead(chunks: Iterable[bytes], depth: int = 4) -> Iterator[bytes]:
    """Iterate ``chunks`` in a background thread, at most ``depth`` chunks ahead.

    psycopg hands a COPY over one row at a time, ~2 us of Python per row; in a thread that
    work overlaps with the consumer's Arrow kernels and file writes, which release the GIL.
    The consumer owns nothing the thread uses; on early exit the thread is told to stop
    (closing the COPY) and joined before this generator returns.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, re-raised there
            put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="copy-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
