"""The component's labels as string hashes: for setting tags and reading gold tags in bulk."""
from typing import Optional, Sequence

import numpy
from spacy.strings import get_string_id

from ..arrays import lookup_rows


class LabelHashes:
    """Each label's hash (`hashes[row]`), and the way back from hashes to label rows."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = tuple(labels)
        self.hashes = numpy.asarray([get_string_id(label) for label in self.labels], dtype="uint64")
        order = numpy.argsort(self.hashes)
        self._sorted = self.hashes[order]
        self._row_of_found = numpy.concatenate([[-1], order]).astype("int32")  # lookup_rows' 0 -> -1

    def rows(self, tag_hashes: numpy.ndarray) -> Optional[numpy.ndarray]:
        """Row of each hash's label, -1 where the hash is 0 (no tag); None if any hash is
        neither 0 nor a label (a negative "!TAG" or a tag not in the labels)."""
        found = lookup_rows(self._sorted, tag_hashes)  # 0 where the hash is no label's
        if not numpy.all((found > 0) | (tag_hashes == 0)):
            return None
        return self._row_of_found[found]
