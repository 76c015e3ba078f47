"""Temperature scaling of tag probabilities: fit one temperature on gold-tagged tokens, apply it.

Dividing the log probabilities by a temperature T and taking the softmax again is the same as
dividing the network's logits by T. It sharpens (T < 1) or flattens (T > 1) every distribution
without reordering its tags, so the argmax never changes. NumPy (or CuPy) only: no torch here.
"""
import numpy
from thinc.util import get_array_module

TEMPERATURE = "temperature"
"""The key of the component's cfg that holds the fitted temperature (absent: none fitted)."""

BOUNDS = (0.05, 20.0)
"""The temperatures a fit may choose from."""

_SMALLEST = 1e-45
"""Probabilities below this (zero, after a float32 softmax underflows) count as this."""


def log_probabilities(probabilities):
    """Log probabilities in float64, (n_tokens, n_tags), with zeros taken as tiny probabilities;
    NumPy, or CuPy for a CuPy array."""
    xp = get_array_module(probabilities)
    return xp.log(xp.maximum(xp.asarray(probabilities, dtype="float64"), _SMALLEST))


def apply_temperature(probabilities, temperature: float):
    """Probabilities (n_tokens, n_tags) rescaled by `temperature`, in float64, NumPy or CuPy as given.

    float64 keeps every pair of float32 probabilities that differ apart (their log ratio shrinks
    at most 20 times, far above float64's resolution), so the argmax, ties included, is the one
    the input has.
    """
    scaled = log_probabilities(probabilities) / temperature
    if not scaled.size:
        return scaled
    scaled = get_array_module(scaled).exp(scaled - scaled.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def mean_nll(log_probs: numpy.ndarray, gold: numpy.ndarray, temperature: float) -> float:
    """The mean negative log likelihood of the gold rows after scaling by `temperature`."""
    scaled = log_probs / temperature
    top = scaled.max(axis=1)
    log_norm = top + numpy.log(numpy.exp(scaled - top[:, None]).sum(axis=1))
    return float(numpy.mean(log_norm - scaled[numpy.arange(len(gold)), gold]))


def fit_temperature(probabilities, gold, iterations: int = 60) -> float:
    """The temperature, within BOUNDS, that minimizes the gold tags' negative log likelihood.

    The likelihood is convex in 1/T, so a golden-section search over 1/T finds its minimum.

    probabilities: (n_tokens, n_tags) the model's probabilities.
    gold: (n_tokens,) each token's gold column.
    RETURNS (float): The temperature, rounded to 6 decimals, so that a cfg saved as JSON holds
        exactly the value in use.
    """
    gold = numpy.asarray(gold, dtype="int64")
    if not len(gold):
        raise ValueError("lstm_tagger: no gold-tagged tokens to fit a temperature on")
    log_probs = log_probabilities(probabilities)
    low, high = 1.0 / BOUNDS[1], 1.0 / BOUNDS[0]
    ratio = (numpy.sqrt(5.0) - 1.0) / 2.0
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    nll_a, nll_b = mean_nll(log_probs, gold, 1.0 / a), mean_nll(log_probs, gold, 1.0 / b)
    for _ in range(iterations):
        if nll_a <= nll_b:
            high, b, nll_b = b, a, nll_a
            a = high - ratio * (high - low)
            nll_a = mean_nll(log_probs, gold, 1.0 / a)
        else:
            low, a, nll_a = a, b, nll_b
            b = low + ratio * (high - low)
            nll_b = mean_nll(log_probs, gold, 1.0 / b)
    return round(float(1.0 / ((low + high) / 2.0)), 6)
