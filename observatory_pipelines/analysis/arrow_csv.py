"""COPY streams parsed by Arrow's CSV reader, one piece of whole rows at a time.

Arrow's streaming CSV reader needs every row to fit in one read block: a record larger than
the block (a 3 MB article) fails the export with "straddling object straddles two block
boundaries". So the COPY stream is re-cut into pieces that end at a row boundary (each at
least one incoming chunk, ~1 MB, or one whole row if that is larger) and each piece is
parsed on its own with a block that holds it. Memory stays ~ the largest piece.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

_MIN_BLOCK = 1 << 20


def _row_end(chunk: bytes, quote_parity: int | None) -> int:
    """Index just after the last row-ending LF of ``chunk`` (0 if none). With CSV quoting
    (``quote_parity`` = quotes seen since the last row boundary, mod 2) an LF ends a row
    only outside quotes; COPY's text format never has a raw LF inside a value."""
    pos = chunk.rfind(b"\n")
    if pos < 0 or quote_parity is None:
        return pos + 1
    quotes = quote_parity + chunk.count(b'"', 0, pos)
    while quotes % 2:
        previous = chunk.rfind(b"\n", 0, pos)
        if previous < 0:
            return 0
        quotes -= chunk.count(b'"', previous, pos)
        pos = previous
    return pos + 1


def whole_rows(chunks: Iterable[bytes], *, quoted: bool) -> Iterator[bytes]:
    """Re-cut a COPY byte stream into pieces that each end at a row boundary."""
    parts: list[bytes] = []
    parity = 0
    for chunk in chunks:
        cut = _row_end(chunk, parity if quoted else None)
        if cut:
            parts.append(chunk[:cut])
            yield b"".join(parts)
            rest = chunk[cut:]
            parts = [rest] if rest else []
            parity = rest.count(b'"') % 2 if quoted else 0
        else:
            parts.append(chunk)
            if quoted:
                parity = (parity + chunk.count(b'"')) % 2
    if parts:
        yield b"".join(parts)


def read_batches(
    chunks: Iterable[bytes],
    names: Sequence[str],
    *,
    quoted: bool,
    parse_options: pacsv.ParseOptions,
    convert_options: pacsv.ConvertOptions,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a COPY (FORMAT csv if ``quoted``, else text) stream."""
    for piece in whole_rows(chunks, quoted=quoted):
        table = pacsv.read_csv(
            pa.py_buffer(piece),
            read_options=pacsv.ReadOptions(
                column_names=list(names),
                block_size=max(_MIN_BLOCK, len(piece) + 1),
                use_threads=False,
            ),
            parse_options=parse_options,
            convert_options=convert_options,
        )
        yield from table.to_batches()


def text_copy_batches(chunks: Iterable[bytes], names: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """Batches of a COPY (FORMAT text) stream, every column a string (still COPY-escaped)."""
    return read_batches(
        chunks,
        names,
        quoted=False,
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
