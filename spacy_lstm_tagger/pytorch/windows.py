"""Long sequences in overlapping windows, so that tagging a very long Doc needs bounded memory.

A sequence longer than `window + 2 * context` tokens is cut into windows of `window`
tokens, each run through the network with up to `context` tokens on either side, and
each token takes its scores from the window it belongs to. The windows then go through
the network in groups of at most `group_tokens` tokens.
"""
from typing import Iterator, List, NamedTuple, Optional, Tuple

import numpy

WINDOW = 1000
CONTEXT = 50
GROUP_TOKENS = 10_000


class WindowPlan(NamedTuple):
    """The windows of a batch: `gather` picks each window's tokens from the batch, laid end
    to end; `lengths` is each window's length; `take` gives, for each token of the batch,
    the row of the gathered windows whose scores it keeps."""

    gather: numpy.ndarray
    lengths: numpy.ndarray
    take: numpy.ndarray

    def groups(self, group_tokens: Optional[int] = None) -> Iterator[Tuple[numpy.ndarray, numpy.ndarray]]:
        """(token index, window lengths) of consecutive windows, at most group_tokens tokens
        (default GROUP_TOKENS) together, or a single window if one is longer."""
        group_tokens = group_tokens or GROUP_TOKENS
        start, size, first_token = 0, 0, 0
        for i, length in enumerate(self.lengths.tolist()):
            if size and size + length > group_tokens:
                yield self.gather[first_token : first_token + size], self.lengths[start:i]
                start, first_token, size = i, first_token + size, 0
            size += length
        if size:
            yield self.gather[first_token : first_token + size], self.lengths[start:]


def plan_windows(lengths: numpy.ndarray, window: int = WINDOW, context: int = CONTEXT) -> Optional[WindowPlan]:
    """The windows for sequences of these lengths, laid end to end; None if none is long."""
    if not len(lengths) or int(lengths.max()) <= window + 2 * context:
        return None
    gather: List[numpy.ndarray] = []
    take: List[numpy.ndarray] = []
    window_lengths: List[int] = []
    offset, gathered = 0, 0
    for length in lengths.tolist():
        if length <= window + 2 * context:
            spans = [(0, length, 0, length)] if length else []
        else:
            spans = [
                (max(0, s - context), min(length, s + window + context), s, min(length, s + window))
                for s in range(0, length, window)
            ]
        for first, end, keep_first, keep_end in spans:
            gather.append(numpy.arange(offset + first, offset + end))
            take.append(numpy.arange(gathered + keep_first - first, gathered + keep_end - first))
            window_lengths.append(end - first)
            gathered += end - first
        offset += length
    return WindowPlan(
        numpy.concatenate(gather), numpy.asarray(window_lengths, dtype="int64"), numpy.concatenate(take)
    )
