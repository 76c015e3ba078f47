"""NumPy helpers shared by the feature layer and the component: look-ups in sorted keys, and
rows of Docs laid end to end."""
from typing import List, Sequence

import numpy


def lookup_rows(keys: numpy.ndarray, values: numpy.ndarray) -> numpy.ndarray:
    """Row of each value in the sorted array keys, plus one; 0 where the value is not in keys."""
    if len(keys) == 0:
        return numpy.zeros(len(values), dtype="int64")
    positions = numpy.searchsorted(keys, values)
    clipped = numpy.minimum(positions, len(keys) - 1)
    return numpy.where(keys[clipped] == values, clipped + 1, 0)


def split_per_doc(rows, lengths: Sequence[int]) -> List:
    """The rows of Docs laid end to end, as one view per Doc (NumPy or CuPy): slicing, which
    costs less per Doc than `split`."""
    lengths = numpy.asarray(lengths, dtype="int64")
    ends = lengths.cumsum().tolist()
    return [rows[end - length : end] for end, length in zip(ends, lengths.tolist())]
