"""The feature layer's word-type cache: each type's ids are made once, and found again as they were."""
import copy
import pickle

import numpy

from spacy_lstm_tagger.layers.type_cache import TypeIdCache


class IdMaker:
    """Ids (n, 2) that name each value; records the values it was asked for."""

    def __init__(self):
        self.asked = []

    def __call__(self, values):
        self.asked.append(list(values))
        return numpy.array([[value, 10 * value] for value in values], dtype="int64")


def types(*values):
    return numpy.array(values, dtype="uint64")


def test_a_type_is_made_once_and_found_again():
    cache, make = TypeIdCache(), IdMaker()
    tables = object()
    assert cache.lookup(tables, types(3, 7), make).tolist() == [[3, 30], [7, 70]]
    assert cache.lookup(tables, types(7, 5, 3), make).tolist() == [[7, 70], [5, 50], [3, 30]]
    assert cache.lookup(tables, types(5), make).tolist() == [[5, 50]]
    assert make.asked == [[3, 7], [5]]


def test_the_rows_survive_the_array_growing():
    cache, make, tables = TypeIdCache(), IdMaker(), object()
    for value in range(1, 3000):
        cache.lookup(tables, types(value), make)
    assert cache.lookup(tables, types(*range(1, 3000)), make).tolist() == [[v, 10 * v] for v in range(1, 3000)]
    assert len(make.asked) == 2999


def test_it_starts_again_for_new_tables_or_when_full():
    cache, make = TypeIdCache(max_types=3), IdMaker()
    first, second = object(), object()
    cache.lookup(first, types(1, 2), make)
    cache.lookup(second, types(1), make)  # other tables: made again
    cache.lookup(second, types(2, 3), make)
    cache.lookup(second, types(4), make)  # a fourth type: the cache starts again
    assert cache.lookup(second, types(1, 4), make).tolist() == [[1, 10], [4, 40]]
    assert make.asked == [[1, 2], [1], [2, 3], [4], [1]]


def test_a_copy_starts_empty():
    cache, make, tables = TypeIdCache(max_types=50), IdMaker(), object()
    cache.lookup(tables, types(1), make)
    for other in (copy.deepcopy(cache), pickle.loads(pickle.dumps(cache))):
        assert other.max_keys == 50
        assert other.lookup(tables, types(1), make).tolist() == [[1, 10]]
    assert make.asked == [[1], [1], [1]]


def test_repeated_types_are_made_once():
    cache, make, tables = TypeIdCache(), IdMaker(), object()
    assert cache.lookup(tables, types(4, 2, 4, 4, 2), make).tolist() == [[4, 40], [2, 20], [4, 40], [4, 40], [2, 20]]
    assert make.asked == [[4, 2]]
