"""app.core.kept: the one store behind every per-process page cache stays within both bounds."""

from __future__ import annotations

import threading

from markupsafe import Markup

from app.core import kept
from app.core.kept import KeptValues, size_of


def test_a_kept_value_comes_back_under_its_key_only():
    store = KeptValues("test-exact", entries=4)
    store.put(("form", "en"), "<form>en</form>")
    assert store.get(("form", "en")) == "<form>en</form>"
    assert store.get(("form", "it")) is None
    assert store.get(("form", "it"), kept.MISSING) is kept.MISSING


def test_the_least_recently_used_goes_first_beyond_the_entries():
    store = KeptValues("test-entries", entries=2)
    store.put("a", "1")
    store.put("b", "2")
    store.get("a")  # a is now the most recently used
    store.put("c", "3")
    assert "b" not in store
    assert store.get("a") == "1" and store.get("c") == "3"
    assert len(store) == 2


def test_large_fragments_are_bounded_by_bytes_not_by_count():
    store = KeptValues("test-bytes", entries=1000, max_bytes=10_000)
    for number in range(50):
        store.put(number, Markup("x") * 3_000)
    assert store.bytes <= 10_000
    assert len(store) == 3
    assert store.get(49) is not None and store.get(0) is None


def test_a_value_larger_than_the_budget_is_returned_and_not_kept():
    store = KeptValues("test-huge", entries=10, max_bytes=100)
    store.put("small", "ok")
    assert store.put("huge", "y" * 500) == "y" * 500
    assert "huge" not in store and store.get("small") == "ok"


def test_replacing_a_key_counts_its_size_once():
    store = KeptValues("test-replace", entries=10, max_bytes=1_000)
    store.put("k", "a" * 600)
    store.put("k", "b" * 600)
    assert store.bytes == 600 and store.get("k") == "b" * 600


def test_get_or_make_makes_once_per_key():
    store = KeptValues("test-make", entries=10)
    made = []

    def make():
        made.append(1)
        return "drawn"

    assert store.get_or_make("k", make) == "drawn"
    assert store.get_or_make("k", make) == "drawn"
    assert len(made) == 1


def test_sizes_are_estimated_through_tuples_of_text():
    assert size_of("abc") == 3
    assert size_of(("abc", ("de", "f"))) == 8 * 2 + 3 + (8 * 2 + 2 + 1)


def test_clear_all_empties_every_store_and_sizes_lists_them():
    first = KeptValues("test-all-1", entries=5)
    second = KeptValues("test-all-2", entries=5)
    first.put(1, "a")
    second.put(2, "bb")
    assert kept.sizes()["test-all-2"] == (1, 2)
    kept.clear_all()
    assert len(first) == 0 and len(second) == 0 and second.bytes == 0


def test_concurrent_writers_keep_the_bounds():
    store = KeptValues("test-threads", entries=64, max_bytes=50_000)

    def write(offset: int) -> None:
        for number in range(500):
            store.put((offset, number), "z" * (100 + number % 400))

    threads = [threading.Thread(target=write, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store) <= 64 and store.bytes <= 50_000
    assert store.bytes == sum(size_of(store.get(key)) for key in list(store._values))
