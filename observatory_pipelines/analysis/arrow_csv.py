"""COPY streams parsed by Arrow's streaming CSV reader.

The chunks come from ``exports._copy_stream``: each holds whole rows, because Postgres sends
one CopyData message per row ("messages sent from the backend will always correspond to
single data rows", protocol docs, COPY operations) and the chunks are cut between messages.
One streaming reader parses them all, handed over as they are (no copy, one reader: making
a reader per ~1 MB piece cost more than parsing it, ~3x the parse time at 1 M records).

Arrow's reader needs every row to fit in a read block: a record larger than the block (a
3 MB article) would fail the export with "straddling object straddles two block
boundaries". A chunk larger than the block (it holds such a row) therefore ends the
reader's input; that chunk is parsed on its own with a block that holds it, and a new
reader takes the chunks after it. Memory stays ~ the block, or the one large chunk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

BLOCK_BYTES = 4 << 20  # > the ~1 MB chunks plus one ordinary row


class _ChunksUpToALargeOne:
    """A file over ``first`` and the following chunks, ending before the first chunk larger
    than Arrow asks for (kept in ``large``) or at the end of the stream (``large`` None).
    ``read`` returns one chunk at a time: a block for Arrow, which it wraps without a copy."""

    closed = False

    def __init__(self, first: bytes, rest: Iterator[bytes]):
        self._next: bytes | None = first
        self._rest = rest
        self.large: bytes | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._next if self._next is not None else next(self._rest, None)
        self._next = None
        if chunk is None or self.large is not None:
            return b""
        if 0 <= size < len(chunk):
            self.large = chunk
            return b""
        return chunk

    def close(self) -> None:
        self.closed = True


def read_batches(
    chunks: Iterable[bytes],
    names: Sequence[str],
    *,
    parse_options: pacsv.ParseOptions,
    convert_options: pacsv.ConvertOptions,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a COPY stream in chunks of whole rows (see the module docstring)."""
    rest = iter(chunks)
    pending = next(rest, None)
    while pending is not None:
        if len(pending) > BLOCK_BYTES:
            table = pacsv.read_csv(
                pa.py_buffer(pending),
                read_options=_read_options(names, len(pending) + 1),
                parse_options=parse_options,
                convert_options=convert_options,
            )
            yield from table.to_batches()
            pending = next(rest, None)
            continue
        source = _ChunksUpToALargeOne(pending, rest)
        yield from pacsv.open_csv(
            source,
            read_options=_read_options(names, BLOCK_BYTES),
            parse_options=parse_options,
            convert_options=convert_options,
        )
        pending = source.large


def _read_options(names: Sequence[str], block_size: int) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(column_names=list(names), block_size=block_size, use_threads=False)


def text_copy_batches(chunks: Iterable[bytes], names: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """Batches of a COPY (FORMAT text) stream, every column a string (still COPY-escaped)."""
    return read_batches(
        chunks,
        names,
        # Text format never quotes; tabs and newlines inside values are escaped.
        parse_options=pacsv.ParseOptions(
            delimiter="\t", quote_char=False, escape_char=False, double_quote=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=["\\N"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


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
