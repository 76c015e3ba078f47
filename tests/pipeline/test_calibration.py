"""Calibrated tag probabilities: the temperature is fitted, saved, applied without changing a tag,
and (slow) `spacy train` with the default config's callback gives probabilities that are right."""
import random
import subprocess
import sys

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin

from conftest import ROOT, SMALL_MODEL, TUTORIAL_DATA, V2_MODEL, train_tutorial_tagger
from spacy_lstm_tagger.pipeline.calibration import calibrate, make_calibrate_temperature
from spacy_lstm_tagger.pipeline.temperature import TEMPERATURE, apply_temperature

TAGS = ["DET", "NN", "V"]
DOCS = [words for words, _ in TUTORIAL_DATA] + ["The dog read the book".split(), "Everybody ate that apple".split()]


def gold_docbin(nlp, path):
    """The tutorial sentences with their tags, and a copy of each with wrong tags: a tagger that
    fits the tutorial is right on half of these tokens, far less often than it is sure."""
    docs = []
    for words, tags in TUTORIAL_DATA:
        docs.append(Doc(nlp.vocab, words=words, tags=tags))
        for shift in (1,):
            wrong = [TAGS[(TAGS.index(tag) + shift) % len(TAGS)] for tag in tags]
            docs.append(Doc(nlp.vocab, words=words, tags=wrong))
    DocBin(docs=docs).to_disk(path)
    return path


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """The tutorial tagger of the `tutorial_nlp` fixture, its temperature fitted by the training
    callback on gold data."""
    nlp = train_tutorial_tagger()
    dev = gold_docbin(nlp, tmp_path_factory.mktemp("calibration") / "dev.spacy")
    assert make_calibrate_temperature(str(dev))(nlp) is nlp
    return nlp


def docs(nlp):
    return [Doc(nlp.vocab, words=words) for words in DOCS]


def test_callback_sets_a_temperature_that_predict_applies_without_changing_tags(calibrated, tutorial_nlp):
    tagger = calibrated.get_pipe("lstm_tagger")
    temperature = tagger.cfg[TEMPERATURE]
    assert 2.0 < temperature < 20.0  # right on half the gold tokens: far less sure than when trained
    raw = tagger.model.predict(docs(calibrated))
    for scores, raw_scores in zip(tagger.predict(docs(calibrated)), raw):
        numpy.testing.assert_allclose(scores, apply_temperature(raw_scores, temperature), rtol=1e-6)
        numpy.testing.assert_array_equal(scores.argmax(axis=1), raw_scores.argmax(axis=1))
        assert scores.max(axis=1).mean() < raw_scores.max(axis=1).mean()
    assert [[t.tag_ for t in doc] for doc in calibrated.pipe(docs(calibrated))] == \
           [[t.tag_ for t in doc] for doc in tutorial_nlp.pipe(docs(tutorial_nlp))]


def test_temperature_survives_to_disk_and_to_bytes(calibrated, tmp_path):
    calibrated.get_pipe("lstm_tagger").store_probabilities = True
    try:
        expected = [t._.tag_prob for doc in calibrated.pipe(docs(calibrated)) for t in doc]
    finally:
        calibrated.get_pipe("lstm_tagger").store_probabilities = False
    calibrated.to_disk(tmp_path / "model")
    from_disk = spacy.load(tmp_path / "model", config={"components": {"lstm_tagger": {"store_probabilities": True}}})
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("lstm_tagger", config={"model": V2_MODEL, "store_probabilities": True})
    from_bytes.from_bytes(calibrated.to_bytes())
    for nlp in (from_disk, from_bytes):
        assert nlp.get_pipe("lstm_tagger").cfg[TEMPERATURE] == calibrated.get_pipe("lstm_tagger").cfg[TEMPERATURE]
        numpy.testing.assert_allclose([t._.tag_prob for doc in nlp.pipe(docs(nlp)) for t in doc], expected)


def test_a_tagger_without_a_temperature_gives_the_model_probabilities(tutorial_nlp):
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    assert TEMPERATURE not in tagger.cfg
    for scores, raw in zip(tagger.predict(docs(tutorial_nlp)), tagger.model.predict(docs(tutorial_nlp))):
        assert scores.dtype == numpy.float32
        numpy.testing.assert_array_equal(scores, raw)


def test_the_fit_ignores_a_temperature_already_set(calibrated, tmp_path):
    gold = list(DocBin().from_disk(gold_docbin(calibrated, tmp_path / "dev.spacy")).get_docs(calibrated.vocab))
    assert calibrate(calibrated, gold) == {"lstm_tagger": calibrated.get_pipe("lstm_tagger").cfg[TEMPERATURE]}


def test_calibration_errors_name_what_is_missing(tutorial_nlp, tmp_path):
    nlp = tutorial_nlp
    with pytest.raises(ValueError, match="no calibration data at"):
        make_calibrate_temperature(str(tmp_path / "missing.spacy"))(nlp)
    untagged = [Doc(nlp.vocab, words=["dog"])]
    with pytest.raises(ValueError, match="no tokens with a tag"):
        calibrate(nlp, untagged)
    with pytest.raises(ValueError, match="no lstm_tagger"):
        calibrate(spacy.blank("en"), untagged)


def test_command_calibrates_a_saved_pipeline(tutorial_nlp, tmp_path):
    tutorial_nlp.to_disk(tmp_path / "model")
    dev = gold_docbin(tutorial_nlp, tmp_path / "dev.spacy")
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "lstm-tagger", "calibrate", tmp_path / "model", dev, "--output", tmp_path / "out"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    temperature = spacy.load(tmp_path / "out").get_pipe("lstm_tagger").cfg[TEMPERATURE]
    assert f"lstm_tagger: temperature {temperature:.4f}" in result.stdout


def test_default_config_calibrates_on_the_dev_corpus():
    config = spacy.util.load_config(ROOT / "configs" / "lstm_tagger.cfg", interpolate=True)
    assert config["training"]["before_to_disk"] == {
        "@callbacks": "spacy_lstm_tagger.calibrate_temperature.v1", "path": config["paths"]["dev"]}


# Known answers: after "they saw", "duck" is NN in exactly half the sentences and VB in the
# others, "fly" NN in exactly 4 of 5; other words always have one tag. The right probabilities:
# 0.5, 0.8, and near 1.
NOUNS, VERBS = ["dog", "cat", "bird", "cow", "fish", "horse"], ["runs", "sleeps", "eats", "sits", "jumps"]


def ambiguous_corpus(seed, n):
    rng = random.Random(seed)
    sentences = []
    for i in range(n):
        kind, count = i % 3, i // 3
        if kind == 0:
            sentences.append((["the", rng.choice(NOUNS), rng.choice(VERBS)], ["DT", "NN", "VBZ"]))
        elif kind == 1:
            sentences.append((["they", "saw", "duck"], ["PRP", "VBD", "NN" if count % 2 else "VB"]))
        else:
            sentences.append((["they", "saw", "fly"], ["PRP", "VBD", "VB" if count % 5 == 4 else "NN"]))
    rng.shuffle(sentences)
    return sentences


@pytest.mark.slow
def test_spacy_train_gives_probabilities_that_match_known_frequencies(tmp_path):
    vocab = spacy.blank("en").vocab
    for name, seed, n in [("train", 0, 600), ("dev", 1, 300)]:
        docs = [Doc(vocab, words=words, tags=tags) for words, tags in ambiguous_corpus(seed, n)]
        DocBin(docs=docs).to_disk(tmp_path / f"{name}.spacy")
    model = {f"components.lstm_tagger.model.{key}": value for key, value in SMALL_MODEL.items()}
    overrides = {**model, "paths.train": tmp_path / "train.spacy", "paths.dev": tmp_path / "dev.spacy",
                 "training.max_steps": 500, "training.eval_frequency": 100}
    command = [sys.executable, "-m", "spacy", "train", ROOT / "configs" / "lstm_tagger.cfg", "--output", tmp_path / "out"]
    for key, value in overrides.items():
        command += [f"--{key}", str(value)]
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    nlp = spacy.load(tmp_path / "out" / "model-best", config={"components": {"lstm_tagger": {"store_probabilities": True}}})
    assert TEMPERATURE in nlp.get_pipe("lstm_tagger").cfg
    duck, fly = (nlp(Doc(nlp.vocab, words=["they", "saw", word])) for word in ("duck", "fly"))
    assert dict(map(tuple, duck[2]._.tag_alternatives[:2])) == {"NN": pytest.approx(0.5, abs=0.06),
                                                                "VB": pytest.approx(0.5, abs=0.06)}
    assert fly[2].tag_ == "NN" and fly[2]._.tag_prob == pytest.approx(0.8, abs=0.06)
    assert min(t._.tag_prob for t in [*duck[:2], *nlp(Doc(nlp.vocab, words=["the", "cow", "sits"]))]) > 0.95
