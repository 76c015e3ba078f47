"""The component's labels as string hashes: for setting tags and reading gold tags in bulk."""
from typing import Optional, Sequence

import numpy
from spacy.strings import get_string_id


class LabelHashes:
    """Each label's hash (`hashes[row]`), and the way back from hashes to label rows."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = tuple(labels)
        self.hashes = numpy.asarray([get_string_id(label) for label in self.labels], dtype="uint64")
        self._order = numpy.argsort(self.hashes)
        self._sorted = self.hashes[self._order]

    def rows(self, tag_hashes: numpy.ndarray) -> Optional[numpy.ndarray]:
        """Row of each hash's label, -1 where the hash is 0 (no tag); None if any hash is
        neither 0 nor a label (a negative "!TAG" or a tag not in the labels)."""
        missing = tag_hashes == 0
        if len(self._sorted) == 0:
            return numpy.full(len(tag_hashes), -1, dtype="int32") if missing.all() else None
        positions = numpy.minimum(numpy.searchsorted(self._sorted, tag_hashes), len(self._sorted) - 1)
        found = self._sorted[positions] == tag_hashes
        if not numpy.all(found | missing):
            return None
        return numpy.where(missing, -1, self._order[positions]).astype("int32")
