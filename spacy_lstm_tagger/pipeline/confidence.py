"""How far tag probabilities can be trusted: expected calibration error, reliability bins, and
accuracy above confidence thresholds."""
from typing import Dict, List, Sequence

import numpy

N_BINS = 10
THRESHOLDS = (0.5, 0.9, 0.99)


def reliability_bins(confidences: Sequence[float], hits: Sequence[bool], n_bins: int = N_BINS) -> List[Dict]:
    """Equal-width bins over [0, 1] of each token's confidence (the last bin holds 1.0 too).

    RETURNS (List[Dict]): Per bin: lower, upper, tokens, and (None if empty) the mean
        confidence and the accuracy of its tokens.
    """
    confidences, hits = numpy.asarray(confidences, dtype="float64"), numpy.asarray(hits, dtype="float64")
    index = numpy.minimum((confidences * n_bins).astype("int64"), n_bins - 1)
    bins = []
    for i in range(n_bins):
        inside = index == i
        count = int(inside.sum())
        bins.append({
            "lower": i / n_bins,
            "upper": (i + 1) / n_bins,
            "tokens": count,
            "confidence": float(confidences[inside].mean()) if count else None,
            "accuracy": float(hits[inside].mean()) if count else None,
        })
    return bins


def expected_calibration_error(bins: List[Dict]) -> float:
    """The gap between mean confidence and accuracy in each bin, weighted by its share of tokens."""
    total = sum(b["tokens"] for b in bins)
    return sum(b["tokens"] / total * abs(b["confidence"] - b["accuracy"]) for b in bins if b["tokens"])


def calibration_summary(confidences: Sequence[float], hits: Sequence[bool], thresholds=THRESHOLDS) -> Dict:
    """ECE, mean confidence, accuracy, the reliability bins, and for each threshold the share of
    tokens whose confidence is at or above it and their accuracy.

    confidences (Sequence[float]): The probability of each token's predicted tag.
    hits (Sequence[bool]): Whether each token's predicted tag is its gold tag.
    """
    if not len(confidences):
        raise ValueError("report: no tokens with a tag probability to assess")
    confidences, hits = numpy.asarray(confidences, dtype="float64"), numpy.asarray(hits, dtype=bool)
    bins = reliability_bins(confidences, hits)
    above = []
    for threshold in thresholds:
        chosen = confidences >= threshold
        above.append({
            "threshold": threshold,
            "share": float(chosen.mean()),
            "accuracy": float(hits[chosen].mean()) if chosen.any() else None,
        })
    return {
        "tokens": len(confidences),
        "ece": expected_calibration_error(bins),
        "mean_confidence": float(confidences.mean()),
        "accuracy": float(hits.mean()),
        "bins": bins,
        "thresholds": above,
    }
