"""The loss with teacher probabilities: the gradient each kind of token gets, and the checks."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import NumpyOps

from conftest import V2_MODEL

from spacy_lstm_tagger.pipeline.loss import (
    TEACHER_LABELS, TEACHER_PROBABILITIES, batch_loss, distillation_loss, teacher_targets,
)
from spacy_lstm_tagger.pipeline.temperature import apply_temperature

OPS = NumpyOps()
LABELS = ("DET", "NN", "V")


def example(words, tags=None, teacher=None, teacher_labels=LABELS):
    vocab = spacy.blank("en").vocab
    reference = Doc(vocab, words=words, tags=tags)
    if teacher is not None:
        reference.user_data[TEACHER_PROBABILITIES] = numpy.asarray(teacher, dtype="float16")
        reference.user_data[TEACHER_LABELS] = teacher_labels
    return Example(Doc(vocab, words=words), reference)


def softmax(logits):
    exp = numpy.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype("float32")


def test_teacher_columns_follow_the_student_labels():
    teacher = [[0.5, 0.25, 0.25], [0.125, 0.75, 0.125]]
    targets, has_target = teacher_targets([example(["a", "b"], teacher=teacher, teacher_labels=("V", "DET", "NN")),
                                           example(["c"])], LABELS)
    assert targets.tolist() == [[0.25, 0.25, 0.5], [0.75, 0.125, 0.125], [0.0, 0.0, 0.0]]
    assert has_target.tolist() == [True, True, False]
    assert teacher_targets([example(["c"])], LABELS) is None


def test_a_teacher_label_the_student_lacks_or_a_token_count_that_differs_is_an_error():
    with pytest.raises(ValueError, match="labels the student lacks: \\['ADJ'\\]"):
        teacher_targets([example(["a"], teacher=[[1.0]], teacher_labels=("ADJ",))], LABELS)
    with pytest.raises(ValueError, match="for 1 tokens, but 2 predicted tokens"):
        teacher_targets([example(["a", "b"], teacher=[[1.0, 0.0, 0.0]])], LABELS)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_each_kind_of_token_gets_its_gradient(temperature):
    rng = numpy.random.default_rng(0)
    probabilities = softmax(rng.normal(size=(4, 3)))
    teachers = softmax(rng.normal(size=(4, 3)))
    rows = numpy.asarray([0, 1, -1, -1])  # gold, gold, no gold, no gold
    has_target = numpy.asarray([True, False, True, False])
    weight = 0.25
    loss, (d,) = distillation_loss(OPS, [probabilities], rows, teachers, has_target, weight, temperature, 0.0)
    truth = numpy.eye(3, dtype="float32")[[0, 1]]
    soft = temperature * (apply_temperature(probabilities, temperature) - apply_temperature(teachers, temperature))
    numpy.testing.assert_allclose(d[0], (1 - weight) * (probabilities[0] - truth[0]) + weight * soft[0], rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(d[1], probabilities[1] - truth[1], rtol=1e-6)
    numpy.testing.assert_allclose(d[2], soft[2], rtol=1e-5, atol=1e-6)
    assert not d[3].any()
    assert loss == pytest.approx(float((d ** 2).sum()))


def test_without_teacher_probabilities_it_is_the_gold_loss():
    probabilities = softmax(numpy.random.default_rng(1).normal(size=(3, 3)))
    rows = numpy.asarray([2, -1, 0])
    loss, (d,) = distillation_loss(OPS, [probabilities], rows, numpy.zeros((3, 3), "float32"), numpy.zeros(3, bool),
                                   0.5, 1.0, 0.1)
    expected_loss, (expected,) = batch_loss(OPS, [probabilities], rows, 0.1)
    numpy.testing.assert_allclose(d, expected, rtol=1e-6)
    assert loss == pytest.approx(expected_loss)


def test_the_component_learns_the_teachers_tags_on_untagged_text():
    """An untagged example with teacher probabilities is learned: the student comes to tag
    it as the teachers do."""
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": {**V2_MODEL, "embed_width": 8, "hidden_width": 8, "depth": 1,
                                                           "feature_dropout": 0.0, "min_freq": 1, "char_width": 0}})
    tagged = ["the", "dog", "ran"]
    gold = Example(Doc(nlp.vocab, words=tagged), Doc(nlp.vocab, words=tagged, tags=["DET", "NN", "V"]))
    words = ["cats", "sleep", "deeply"]
    reference = Doc(nlp.vocab, words=words)
    reference.user_data[TEACHER_PROBABILITIES] = numpy.asarray([[0, 1, 0], [0, 0, 1], [1, 0, 0]], "float16")  # NN V DET
    reference.user_data[TEACHER_LABELS] = LABELS
    raw = Example(Doc(nlp.vocab, words=words), reference)
    optimizer = nlp.initialize(lambda: [gold, raw])
    for _ in range(60):
        nlp.update([gold, raw], sgd=optimizer)
    assert [t.tag_ for t in nlp(Doc(nlp.vocab, words=words))] == ["NN", "V", "DET"]
    assert tagger.distill_weight == 0.8 and tagger.distill_temperature == 1.0


def test_the_student_learns_every_teacher_label_its_gold_data_lacks():
    """Labels come from the teachers as well as the gold tags: a subset of the training data
    without a tag the teachers know still trains (it was refused at the first update)."""
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": {**V2_MODEL, "embed_width": 8, "hidden_width": 8, "depth": 1,
                                                           "char_width": 0}})
    words = ["the", "dog", "ran"]
    reference = Doc(nlp.vocab, words=words, tags=["DET", "NN", "NN"])  # no V
    reference.user_data[TEACHER_PROBABILITIES] = numpy.asarray([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "float16")
    reference.user_data[TEACHER_LABELS] = LABELS
    distilled = Example(Doc(nlp.vocab, words=words), reference)
    optimizer = nlp.initialize(lambda: [distilled])
    assert tagger.labels == LABELS
    losses = nlp.update([distilled], sgd=optimizer)
    assert losses["lstm_tagger"] > 0


@pytest.mark.parametrize("setting,value,message", [
    ("distill_weight", 1.5, "distill_weight must be in \\[0, 1\\]"),
    ("distill_temperature", 0.0, "distill_temperature must be positive"),
])
def test_bad_settings_are_refused(setting, value, message):
    with pytest.raises(ValueError, match=message):
        spacy.blank("en").add_pipe("lstm_tagger", config={setting: value})
