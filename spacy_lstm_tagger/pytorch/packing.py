"""The order in which a PackedSequence reads sentences laid end to end."""
import numpy
import torch


def packing_order(lengths: torch.Tensor, reverse: bool = False):
    """Where each step of a PackedSequence reads from, for sentences laid end to end.

    Vectorized over the whole batch, in NumPy (small CPU ops cost less there): no tensor
    per sentence, and no padded matrix, so a batch of many short sentences beside one
    very long one stays cheap.

    lengths (torch.Tensor): int64 on the CPU, each sentence's length, none zero.
    reverse (bool): Read each sentence from its last token to its first.
    RETURNS (Tuple[torch.Tensor, torch.Tensor]): The token index of each packed row, and
        the PackedSequence's batch sizes (sentences still running at each time step).
    """
    lengths = lengths.numpy()
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
    return torch.from_numpy(starts[ranks] + steps), torch.from_numpy(batch_sizes)
