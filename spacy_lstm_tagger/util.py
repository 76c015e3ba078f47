"""Helpers shared by the component, the loss, the labels and the model: no torch here."""
from typing import List, Sequence

import numpy

INITIALIZE_WITH_ALL_DOCS = "initialize_with_all_docs"
"""A model attr the component reads: True if the model's `initialize` wants every training Doc
as X (to build feature tables), not the 10-Doc sample spaCy's Tagger gives it."""

FLAT_PREDICTIONS = "flat_predictions"
"""A model attr the component reads: True if `spacy_lstm_tagger.model.predict_probabilities(model,
docs)` gives the model's predictions as one array, the Docs laid end to end. The component then
makes no array per Doc on the model's device, which on a GPU costs more than the network."""

NEW_VALUE_HASHES = 2
"""Hashed rows per feature value never seen at initialize (Bloom embeddings): two values
rarely share both. Part of the saved format of architecture v2: do not change."""

NEW_VALUE_SCALE = 8.0
"""What the hashed rows are multiplied by. They start at zero and a new word is seen a few times
only, so they learn as if at 8 times the learning rate (Adam's steps do not depend on the
gradient's size). Measured in benchmarks/continued.py: new-word accuracy after 1,000 steps 84.6
with 1, 86.2 with 8, 87.3 with 16, 85.7 with 32; 8 gave the best dev accuracy overall. Part of
the saved format of architecture v2: do not change."""


class WeightsError(ValueError):
    """Saved network weights that cannot be read, or that do not fit the configured network."""


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
