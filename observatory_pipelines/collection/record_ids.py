"""Time-ordered record ids: UUID version 7 (RFC 9562, section 5.7), made by the client.

A stored record's id leads the primary key of its content_records partition and, after the
design, the one of its content_record_collections link. Random ids (version 4) put every new
key at a random place in those btrees, so each insert dirties a page of its own that has to be
in the cache (and after every checkpoint written to the WAL in full once more); ids that grow
with time append at the right edge of the trees instead. Python 3.11's ``uuid`` has no
``uuid7``, hence this small generator.

Layout (most significant first): 48 bits of Unix time in milliseconds, the version 7, a 12-bit
counter (``rand_a``, RFC 9562 section 6.2 method 1), the variant 0b10, 62 random bits
(``rand_b``, from ``os.urandom`` as ``uuid4`` draws its bits). The counter starts at a random
value below 2048 in each new millisecond and counts up within it, so ids made by one process
are strictly increasing even when many share a millisecond; if it runs out (more than 2048 ids
in a millisecond) or the clock steps back, the timestamp moves on from the last one used
instead, never back. Ids of different processes are not ordered with each other, only unique
(62 random bits per id), which is all the database needs.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_VERSION = 7 << 76
_VARIANT = 0b10 << 62
_RAND_B_MASK = (1 << 62) - 1
_COUNTER_MAX = 0xFFF
# A fresh millisecond starts its counter below half of the range: room for ≥ 2048 ids in it.
_COUNTER_START_BITS = 11


class RecordIds:
    """A strictly increasing source of UUIDv7 values (thread-safe)."""

    def __init__(self, clock_ms=None):
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def next(self) -> uuid.UUID:
        rand_b = int.from_bytes(os.urandom(8)) & _RAND_B_MASK
        with self._lock:
            now = self._clock_ms()
            if now > self._last_ms:
                self._last_ms = now
                self._counter = int.from_bytes(os.urandom(2)) >> (16 - _COUNTER_START_BITS)
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:
                # the counter is used up (in this millisecond, or in the last one used when
                # the clock stepped back): borrow the next one rather than repeat an id
                self._last_ms += 1
                self._counter = int.from_bytes(os.urandom(2)) >> (16 - _COUNTER_START_BITS)
            ms, counter = self._last_ms, self._counter
        return uuid.UUID(int=(ms << 80) | _VERSION | (counter << 64) | _VARIANT | rand_b)


_process_ids = RecordIds()


def new_record_id() -> uuid.UUID:
    """The next time-ordered id of this process."""
    return _process_ids.next()


def timestamp_ms(value: uuid.UUID) -> int:
    """The Unix time in milliseconds a UUIDv7 carries."""
    return value.int >> 80
