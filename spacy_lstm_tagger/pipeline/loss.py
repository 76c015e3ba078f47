"""The tagger's loss over a whole batch at once, on the model's device.

spaCy's `Tagger.get_loss` converts the gold tags Doc by Doc, as strings, through
Thinc's SequenceCategoricalCrossentropy, with several small array operations and
device syncs per Doc. On a GPU that costs far more than the network. This module
reads the gold tags as hashes with one `to_array` per Doc, maps them to label rows
with one NumPy lookup, and computes the same gradient and loss in a few operations.
"""
from typing import Iterable, List, Tuple

import numpy
from spacy.attrs import ORTH, TAG
from spacy.training import Example
from thinc.api import Ops
from thinc.types import Floats2d
from thinc.util import to_categorical

from ..arrays import split_per_doc


def gold_tag_hashes(examples: Iterable[Example]) -> numpy.ndarray:
    """The gold tag hash of each predicted token, the examples laid end to end; 0 where the
    reference has no tag or no one-to-one aligned token."""
    columns = []
    for eg in examples:
        predicted, reference = eg.predicted, eg.reference
        if len(predicted) == len(reference):
            gold = reference.to_array([ORTH, TAG])
            if (predicted.to_array(ORTH) == gold[:, 0]).all():
                columns.append(gold[:, 1])
                continue
        # another tokenization: spaCy's alignment decides
        columns.append(numpy.asarray([value or 0 for value in eg.get_aligned("TAG")], dtype="uint64"))
    return numpy.concatenate(columns) if columns else numpy.zeros(0, dtype="uint64")


def batch_loss(
    ops: Ops, scores: List[Floats2d], gold_rows: numpy.ndarray, label_smoothing: float
) -> Tuple[float, List[Floats2d]]:
    """Sum of squared gradients and the gradient `probabilities - truth` per Doc, with
    missing tags (row -1) masked, as Thinc's SequenceCategoricalCrossentropy gives them
    with `normalize=False`. `scores` holds at least one Doc's probabilities."""
    xp = ops.xp
    probabilities = xp.concatenate(scores) if len(scores) > 1 else scores[0]
    rows = ops.asarray1i(gold_rows)
    n_labels = probabilities.shape[1]
    truth = to_categorical(xp.maximum(rows, 0), n_classes=n_labels, label_smoothing=label_smoothing)
    d_probabilities = (probabilities - truth) * (rows >= 0)[:, None]
    loss = float((d_probabilities**2).sum())
    lengths = numpy.asarray([len(doc_scores) for doc_scores in scores])
    return loss, split_per_doc(d_probabilities, lengths)
