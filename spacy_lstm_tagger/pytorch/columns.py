"""The layout of the id matrix that the feature layer writes and the network reads."""
from typing import NamedTuple

NEW_VALUE_HASHES = 2
"""Hashed rows per feature value never seen at initialize (Bloom embeddings): two values
rarely share both. Part of the saved format of architecture v2: do not change."""

NEW_VALUE_SCALE = 8.0
"""What the hashed rows are multiplied by. They start at zero and a new word is seen a few times
only, so they learn as if at 8 times the learning rate (Adam's steps do not depend on the
gradient's size). Measured in benchmarks/continued.py: new-word accuracy after 1,000 steps 84.6
with 1, 86.2 with 8, 87.3 with 16, 85.7 with 32; 8 gave the best dev accuracy overall. Part of
the saved format of architecture v2: do not change."""


class IdColumns(NamedTuple):
    """Which columns of the int64 id matrix (n_tokens, width) hold what, in this order: one table
    row per feature, then `n_chars` character ids, then NEW_VALUE_HASHES new-value rows per
    feature if `new_values`."""

    n_features: int
    n_chars: int = 0
    new_values: bool = False

    @property
    def n_new(self) -> int:
        """The number of new-value columns."""
        return self.n_features * NEW_VALUE_HASHES if self.new_values else 0

    @property
    def width(self) -> int:
        return self.n_features + self.n_chars + self.n_new

    @property
    def features(self) -> slice:
        return slice(0, self.n_features)

    @property
    def chars(self) -> slice:
        return slice(self.n_features, self.n_features + self.n_chars)

    @property
    def new(self) -> slice:
        return slice(self.n_features + self.n_chars, self.width)
