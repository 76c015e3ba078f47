"""The feature layer's per-word-type ids, kept between calls: a cache by LOWER value."""
import threading
from typing import Callable, Dict, List, Optional, Tuple

import numpy
from thinc.api import Model, deserialize_attr, serialize_attr


class TypeIdCache:
    """The ids of the word types seen so far, by LOWER value, for one set of tables: a type's
    ids are made once, by the caller's `make_ids`, then found again in a dict.

    The rows sit in one array with room to spare, which doubles when full, so that a new type
    costs the same however many the cache holds. The cache starts again when the tables change
    or when it would hold more than `max_types` types. It is not saved with the model, and a
    copy starts empty.

    Threads tagging at once read without a lock: a new type's row is written before its key
    goes into the dict, and a grown array comes with a new dict, so the dict and the rows that a
    reader took together always agree. Threads that add types take turns.
    """

    def __init__(self, max_types: int = 200_000) -> None:
        self.max_types = max_types
        self._adding = threading.Lock()
        # (tables, {LOWER value: row}, rows)
        self._state: Tuple[object, Dict[int, int], Optional[numpy.ndarray]] = (None, {}, None)

    def __reduce__(self):
        return (TypeIdCache, (self.max_types,))

    def lookup(self, tables: object, types: numpy.ndarray,
               make_ids: Callable[[List[int]], numpy.ndarray]) -> numpy.ndarray:
        """Ids (n, n_columns) of the LOWER values `types` (n,), repeats allowed, for `tables`;
        `make_ids(values)` gives the ids of the distinct values not seen yet."""
        keys = types.tolist()
        cached_tables, index, rows = self._state
        if cached_tables is tables:
            positions = [index.get(key, -1) for key in keys]
            if -1 not in positions:
                return rows[positions]
        with self._adding:
            index, rows = self._add(tables, keys, make_ids)
        return rows[[index[key] for key in keys]]

    def _add(self, tables: object, keys: List[int],
             make_ids: Callable[[List[int]], numpy.ndarray]) -> Tuple[Dict[int, int], numpy.ndarray]:
        cached_tables, index, rows = self._state
        if cached_tables is not tables:
            index, rows = {}, None
        new_keys = list(dict.fromkeys(key for key in keys if key not in index))
        if len(index) + len(new_keys) > self.max_types:
            index, rows, new_keys = {}, None, list(dict.fromkeys(keys))
        if new_keys:
            new_ids = make_ids(new_keys)
            start, end = len(index), len(index) + len(new_keys)
            if rows is None or end > len(rows):
                grown = numpy.empty((max(end, min(2 * end, self.max_types)), new_ids.shape[1]), dtype=new_ids.dtype)
                if rows is not None:
                    grown[:start] = rows[:start]
                rows, index = grown, dict(index)
            rows[start:end] = new_ids
            index.update(zip(new_keys, range(start, end)))
            self._state = (tables, index, rows)
        return index, rows


@serialize_attr.register(TypeIdCache)
def _serialize_cache(_: TypeIdCache, value: TypeIdCache, name: str, model: Model) -> bytes:
    return b""  # a cache: not saved


@deserialize_attr.register(TypeIdCache)
def _deserialize_cache(_: TypeIdCache, value: bytes, name: str, model: Model) -> TypeIdCache:
    return TypeIdCache()
