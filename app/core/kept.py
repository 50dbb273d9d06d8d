"""Values kept per process by an exact key: one bounded, thread-safe store for every page cache.

Pages keep what they drew (a filter form, a chart's SVG, a dossier's sections, a panel's fields)
under a key that holds everything the drawing read, so a kept value is never stale: a change of
the data, the language or the reader makes another key. What such a store must still do is stay
small. Each `KeptValues` is bounded twice: by entries, and by the approximate size of what it
holds (characters of text, or a rough estimate for other values), dropping the least recently
used first. A store of large HTML fragments therefore cannot grow a worker by more than its
byte budget, however many distinct keys the traffic brings.

Every store registers itself by name, so tests can empty them all (`clear_all`) and an
operator's diagnostics can list their sizes (`sizes`).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

Value = TypeVar("Value")

MISSING: Any = object()

_STORES: dict[str, KeptValues] = {}


def size_of(value: Any) -> int:
    """Approximate bytes held by `value`: the length of text, the sum over a tuple or list,
    the shallow size of anything else (kept values are text, tuples of text or small
    records; an estimate is all a bound needs)."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, tuple | list):
        return 8 * len(value) + sum(size_of(item) for item in value)
    return sys.getsizeof(value)


class KeptValues(Generic[Value]):
    """A least-recently-used store of at most `entries` values and about `max_bytes` bytes."""

    def __init__(
        self,
        name: str,
        *,
        entries: int,
        max_bytes: int = 8 * 1024 * 1024,
        measure: Callable[[Any], int] = size_of,
    ) -> None:
        self.name = name
        self.entries = entries
        self.max_bytes = max_bytes
        self._measure = measure
        self._values: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        _STORES[name] = self

    def get(self, key: Hashable, default: Any = None) -> Value | Any:
        """The value kept under `key` (now the most recently used), else `default`."""
        with self._lock:
            kept = self._values.get(key)
            if kept is None:
                return default
            self._values.move_to_end(key)
            return kept[0]

    def put(self, key: Hashable, value: Value) -> Value:
        """Keep `value` under `key`, dropping the least recently used beyond either bound. A
        value larger than the whole byte budget is returned but not kept."""
        size = self._measure(value)
        if size > self.max_bytes:
            return value
        with self._lock:
            previous = self._values.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            self._values[key] = (value, size)
            self._bytes += size
            while len(self._values) > self.entries or self._bytes > self.max_bytes:
                _key, (_value, dropped) = self._values.popitem(last=False)
                self._bytes -= dropped
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The value kept under `key`, else `make()` kept under it. `make` runs outside the
        lock: two threads may both make a missing value, and both results are equal."""
        value = self.get(key, MISSING)
        if value is MISSING:
            value = self.put(key, make())
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    @property
    def bytes(self) -> int:
        return self._bytes


def clear_all() -> None:
    """Empty every store (tests that change what a page reads without changing its key)."""
    for store in _STORES.values():
        store.clear()


def sizes() -> dict[str, tuple[int, int]]:
    """{store name: (entries, approximate bytes)} of every store in this process."""
    return {name: (len(store), store.bytes) for name, store in sorted(_STORES.items())}
