"""Rows made once per key and found again in a dict: the feature layer's ids per word type
(layers/type_cache.py) and the first layer's input gates per id row (first_gates.py)."""
import threading
from typing import Callable, Dict, List, Optional, Tuple

import numpy


class RowCache:
    """The rows of the keys seen so far, for one owner (the tables or weights they come from): a
    key's row is made once, by the caller's `make_rows`, then found again in a dict.

    The rows sit in one array with room to spare, which doubles when full, so that a new key
    costs the same however many the cache holds. The cache starts again when the owner changes
    or when it would hold more than `max_keys` keys. A copy starts empty.

    Threads reading at once take no lock: a new key's row is written before the key goes into
    the dict, and a grown array comes with a new dict, so the dict and the rows that a reader
    took together always agree. Threads that add keys take turns.
    """

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self._adding = threading.Lock()
        # (owner, {key: row}, rows)
        self._state: Tuple[object, Dict, Optional[numpy.ndarray]] = (None, {}, None)

    def __reduce__(self):
        return (type(self), (self.max_keys,))

    def lookup(self, owner: object, keys: numpy.ndarray, make_rows: Callable[[List], numpy.ndarray]) -> numpy.ndarray:
        """Rows (n, width) of the keys (n,), repeats allowed, for `owner`; `make_rows(keys)` gives
        the rows of the distinct keys not seen yet (as `keys.tolist()` gives them)."""
        keys = keys.tolist()
        cached_owner, index, rows = self._state
        if cached_owner is owner:
            positions = [index.get(key, -1) for key in keys]
            if -1 not in positions:
                return rows[positions]
        with self._adding:
            index, rows = self._add(owner, keys, make_rows)
        return rows[[index[key] for key in keys]]

    def _add(self, owner: object, keys: List, make_rows: Callable[[List], numpy.ndarray]) -> Tuple[Dict, numpy.ndarray]:
        cached_owner, index, rows = self._state
        if cached_owner is not owner:
            index, rows = {}, None
        new_keys = list(dict.fromkeys(key for key in keys if key not in index))
        if len(index) + len(new_keys) > self.max_keys:
            index, rows, new_keys = {}, None, list(dict.fromkeys(keys))
        if new_keys:
            new_rows = make_rows(new_keys)
            start, end = len(index), len(index) + len(new_keys)
            if rows is None or end > len(rows):
                grown = numpy.empty((max(end, min(2 * end, self.max_keys)), *new_rows.shape[1:]), dtype=new_rows.dtype)
                if rows is not None:
                    grown[:start] = rows[:start]
                rows, index = grown, dict(index)
            rows[start:end] = new_rows
            index.update(zip(new_keys, range(start, end)))
            self._state = (owner, index, rows)
        return index, rows
