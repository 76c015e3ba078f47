"""Temperature scaling and the calibration measures, on arrays whose answers are known."""
import numpy
import pytest

from spacy_lstm_tagger.pipeline.confidence import calibration_summary, expected_calibration_error, reliability_bins
from spacy_lstm_tagger.pipeline.temperature import BOUNDS, apply_temperature, fit_temperature


def softmax(logits):
    exp = numpy.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("temperature", [BOUNDS[0], 0.5, 1.0, 1.9, BOUNDS[1]])
def test_the_argmax_never_changes(temperature):
    rng = numpy.random.default_rng(0)
    probabilities = softmax(rng.normal(0, 4, (5000, 50))).astype("float32")
    # Near-ties: the best probability's neighbour one float32 step below it, or equal to it.
    rows = numpy.arange(0, 5000, 2)
    best = probabilities[rows].argmax(axis=1)
    other = (best + 7) % 50
    probabilities[rows, other] = numpy.nextafter(probabilities[rows, best], numpy.float32(0))
    probabilities[rows[::3], other[::3]] = probabilities[rows[::3], best[::3]]  # exact ties: first wins
    probabilities[10, :] = 0.0
    probabilities[10, 3] = 1.0  # underflowed zeros
    scaled = apply_temperature(probabilities, temperature)
    numpy.testing.assert_array_equal(scaled.argmax(axis=1), probabilities.argmax(axis=1))
    numpy.testing.assert_allclose(scaled.sum(axis=1), 1.0)


def test_temperature_one_changes_nothing():
    probabilities = softmax(numpy.random.default_rng(1).normal(0, 3, (100, 7))).astype("float32")
    numpy.testing.assert_allclose(apply_temperature(probabilities, 1.0), probabilities, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("sharpness", [0.5, 1.0, 2.5])
def test_fit_undoes_a_known_over_or_underconfidence(sharpness):
    """Gold tags drawn from softmax(z); the model reports softmax(sharpness * z): T = sharpness."""
    rng = numpy.random.default_rng(2)
    logits = rng.normal(0, 2.5, (40000, 10))
    truth = softmax(logits)
    gold = (truth.cumsum(axis=1) > rng.random((len(truth), 1))).argmax(axis=1)
    temperature = fit_temperature(softmax(sharpness * logits).astype("float32"), gold)
    assert temperature == pytest.approx(sharpness, rel=0.05)


def test_fit_stays_within_bounds_and_needs_tokens():
    probabilities = numpy.asarray([[0.6, 0.4], [0.3, 0.7]], dtype="float32")
    assert fit_temperature(probabilities, [0, 1]) == pytest.approx(BOUNDS[0], rel=1e-3)  # always right
    with pytest.raises(ValueError, match="no gold-tagged tokens"):
        fit_temperature(numpy.zeros((0, 2), dtype="float32"), [])


def test_bins_and_ece_match_hand_computed_values():
    confidences = [0.95, 0.95, 0.95, 0.95, 0.55, 0.55, 1.0, 0.05]
    hits = [True, True, True, False, True, False, True, False]
    bins = reliability_bins(confidences, hits)
    assert [b["tokens"] for b in bins] == [1, 0, 0, 0, 0, 2, 0, 0, 0, 5]  # 1.0 falls in the last bin
    assert bins[9]["confidence"] == pytest.approx(0.96) and bins[9]["accuracy"] == pytest.approx(0.8)
    assert bins[1]["confidence"] is None and bins[1]["accuracy"] is None
    # |0.05 - 0| * 1/8 + |0.55 - 0.5| * 2/8 + |0.96 - 0.8| * 5/8
    assert expected_calibration_error(bins) == pytest.approx(0.05 / 8 + 0.1 / 8 + 0.8 / 8)
    summary = calibration_summary(confidences, hits)
    assert summary["accuracy"] == pytest.approx(5 / 8)
    assert summary["thresholds"] == [
        {"threshold": 0.5, "share": pytest.approx(7 / 8), "accuracy": pytest.approx(5 / 7)},
        {"threshold": 0.9, "share": pytest.approx(5 / 8), "accuracy": pytest.approx(4 / 5)},
        {"threshold": 0.99, "share": pytest.approx(1 / 8), "accuracy": 1.0},
    ]


def test_perfectly_calibrated_probabilities_have_no_error():
    confidences = [0.75] * 4 + [1.0] * 3
    hits = [True, True, True, False, True, True, True]
    assert calibration_summary(confidences, hits)["ece"] == pytest.approx(0.0)
