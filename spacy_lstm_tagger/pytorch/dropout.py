"""Dropout for the network's training passes."""
import numpy
import torch

MASK_LEVELS = 65536
"""On a CPU the mask is drawn as uint16 values: the rate is rounded to a multiple of 1/65536."""


def apply_dropout(vectors: torch.Tensor, rate: float) -> torch.Tensor:
    """Zero each value with probability `rate`, scale the others by 1 / (1 - rate); `rate` 0
    returns `vectors` itself.

    The same as torch's dropout, with a cheaper mask. On a CPU it is drawn as uint16 values by
    NumPy's PCG64 generator, seeded from torch's own (so `fix_random_seed` fixes it): about a
    third of the time of torch's `uniform_`, and `bernoulli_` takes twice as long as that.
    """
    if rate <= 0:
        return vectors
    if vectors.device.type != "cpu":
        keep = torch.empty_like(vectors).uniform_() >= rate
        return _scaled(vectors, keep, 1.0 / (1.0 - rate))
    threshold = round(rate * MASK_LEVELS)
    generator = numpy.random.default_rng(int(torch.randint(0, 2**62, ())))
    draws = generator.integers(0, MASK_LEVELS, tuple(vectors.shape), dtype=numpy.uint16)
    return _scaled(vectors, torch.from_numpy(draws >= threshold), MASK_LEVELS / (MASK_LEVELS - threshold))


def _scaled(vectors: torch.Tensor, keep: torch.Tensor, scale: float) -> torch.Tensor:
    """The kept values times `scale`, the others 0. The scale multiplies the values, not the
    mask: in bfloat16, 4/3 itself would round to 1.336."""
    return (vectors * keep.to(vectors.dtype)).mul_(scale)
