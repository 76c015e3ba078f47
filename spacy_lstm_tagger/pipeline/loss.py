"""The tagger's loss over a whole batch at once, on the model's device.

spaCy's `Tagger.get_loss` converts the gold tags Doc by Doc, as strings, through
Thinc's SequenceCategoricalCrossentropy, with several small array operations and
device syncs per Doc. On a GPU that costs far more than the network. This module
reads the gold tags as hashes with one `to_array` per Doc, maps them to label rows
with one NumPy lookup, and computes the same gradient and loss in a few operations.

With distillation, an example's reference Doc also carries its teachers' averaged tag
probabilities for each predicted token (`TEACHER_PROBABILITIES`, over `TEACHER_LABELS`), and
the loss learns from them too (`distillation_loss`).
"""
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import ORTH, TAG
from spacy.training import Example
from thinc.api import Ops
from thinc.types import Floats2d
from thinc.util import to_categorical

from ..arrays import split_per_doc
from .temperature import apply_temperature

TEACHER_PROBABILITIES = "lstm_tagger.teacher_probabilities"
"""The key in a reference Doc's user_data of its teachers' probabilities, (n predicted tokens, n teacher labels)."""
TEACHER_LABELS = "lstm_tagger.teacher_labels"
"""The key in a reference Doc's user_data of the labels those probabilities' columns stand for."""


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


def teacher_targets(examples: Sequence[Example], labels: Sequence[str]) -> Optional[Tuple[numpy.ndarray, numpy.ndarray]]:
    """The teachers' probabilities of each predicted token in the columns of `labels` (float32),
    the examples laid end to end, and whether each token has them; None if no example has them.
    A teacher label that is not among `labels` is an error: the student could not learn it."""
    if not any(TEACHER_PROBABILITIES in eg.reference.user_data for eg in examples):
        return None
    columns = {label: i for i, label in enumerate(labels)}
    n_tokens = sum(len(eg.predicted) for eg in examples)
    targets = numpy.zeros((n_tokens, len(labels)), dtype="float32")
    has_target = numpy.zeros(n_tokens, dtype=bool)
    start = 0
    for eg in examples:
        end = start + len(eg.predicted)
        probabilities = eg.reference.user_data.get(TEACHER_PROBABILITIES)
        if probabilities is not None:
            if len(probabilities) != len(eg.predicted):
                raise ValueError(f"lstm_tagger: an example has teacher probabilities for {len(probabilities)} tokens, "
                                 f"but {len(eg.predicted)} predicted tokens: were they made with another tokenizer?")
            teacher_labels = eg.reference.user_data[TEACHER_LABELS]
            missing = [label for label in teacher_labels if label not in columns]
            if missing:
                raise ValueError(f"lstm_tagger: the teachers tag with labels the student lacks: {missing}")
            targets[start:end, [columns[label] for label in teacher_labels]] = probabilities
            has_target[start:end] = True
        start = end
    return targets, has_target


def distillation_loss(
    ops: Ops, scores: List[Floats2d], gold_rows: numpy.ndarray, targets: numpy.ndarray, has_target: numpy.ndarray,
    weight: float, temperature: float, label_smoothing: float,
) -> Tuple[float, List[Floats2d]]:
    """The gradient per Doc with respect to the logits, and the sum of its squares, of a loss
    that learns from the gold tags and from the teachers' probabilities.

    A token with teacher probabilities q learns T^2 times the cross-entropy from q to the
    student's distribution, both softened at temperature T: its gradient is
    T (softmax(z / T) - q_T). A token with a gold tag too mixes the two: (1 - weight) times the
    gold gradient, `probabilities - truth`, plus `weight` times the teachers'. A token with
    only a gold tag learns from it alone, as `batch_loss`.
    """
    xp = ops.xp
    probabilities = xp.concatenate(scores) if len(scores) > 1 else scores[0]
    rows = ops.asarray1i(gold_rows)
    truth = to_categorical(xp.maximum(rows, 0), n_classes=probabilities.shape[1], label_smoothing=label_smoothing)
    has_gold = (rows >= 0).astype(probabilities.dtype)
    has_target = ops.asarray(has_target.astype(probabilities.dtype))
    student, teachers = probabilities, ops.asarray(targets)
    if temperature != 1.0:
        student = apply_temperature(student, temperature).astype(probabilities.dtype)
        teachers = apply_temperature(teachers, temperature).astype(probabilities.dtype)
    gold_share = has_gold * (1.0 - weight * has_target)
    teacher_share = has_target * xp.where(has_gold > 0, weight, 1.0).astype(probabilities.dtype) * temperature
    d_probabilities = (probabilities - truth) * gold_share[:, None] + (student - teachers) * teacher_share[:, None]
    loss = float((d_probabilities**2).sum())
    lengths = numpy.asarray([len(doc_scores) for doc_scores in scores])
    return loss, split_per_doc(d_probabilities, lengths)
