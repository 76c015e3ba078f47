"""The order in which a PackedSequence reads sentences laid end to end, in NumPy (small CPU
operations cost less there than in torch)."""
from typing import Tuple

import numpy


def packing_order(lengths: numpy.ndarray, reverse: bool = False) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Where each step of a PackedSequence reads from, for sentences laid end to end.

    Vectorized over the whole batch: no array per sentence, and no padded matrix, so a batch of
    many short sentences beside one very long one stays cheap.

    lengths (numpy.ndarray): int64, each sentence's length, none zero.
    reverse (bool): Read each sentence from its last token to its first.
    RETURNS (Tuple[numpy.ndarray, numpy.ndarray]): The token index of each packed row, and
        the PackedSequence's batch sizes (sentences still running at each time step), int64.
    """
    if len(lengths) == 1:  # one sentence (one Doc at a time): its tokens in order, one a step
        steps = numpy.arange(int(lengths[0]))
        return (steps[::-1].copy() if reverse else steps), numpy.ones(len(steps), dtype="int64")
    by_length = numpy.argsort(-lengths, kind="stable")
    starts = (numpy.cumsum(lengths) - lengths)[by_length]
    max_length = int(lengths[by_length[0]])
    ended_by = numpy.cumsum(numpy.bincount(lengths, minlength=max_length + 1))[:max_length]
    batch_sizes = len(lengths) - ended_by
    step_starts = numpy.cumsum(batch_sizes) - batch_sizes
    steps = numpy.repeat(numpy.arange(max_length), batch_sizes)
    ranks = numpy.arange(len(steps)) - numpy.repeat(step_starts, batch_sizes)
    if reverse:
        steps = lengths[by_length][ranks] - 1 - steps
    return starts[ranks] + steps, batch_sizes


def backward_steps(lengths: numpy.ndarray) -> numpy.ndarray:
    """For each packed row of the backward direction (packing_order's with `reverse`), the packed
    row of the forward direction that holds the same token."""
    forward_order = packing_order(lengths)[0]
    position = numpy.empty_like(forward_order)
    position[forward_order] = numpy.arange(len(forward_order))
    return position[packing_order(lengths, reverse=True)[0]]
