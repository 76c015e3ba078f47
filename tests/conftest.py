"""Shared fixtures: the tutorial's two sentences, and a tagger overfitted on them. spaCy is
imported only where a fixture needs it, so that tests/pytorch/ runs on torch alone."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OPT_IN_MARKERS = ("slow", "ray")
"""Tests that run only with `--slow` (as scripts/test.sh and CI run them): plain `pytest` is the
fast suite."""


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the slow and Ray tests (minutes)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow (scripts/test.sh does)")
    for item in items:
        if any(item.get_closest_marker(name) for name in OPT_IN_MARKERS):
            item.add_marker(skip)
TUTORIAL_DATA = [
    ("The dog ate the apple".split(), "DET NN V DET NN".split()),
    ("Everybody read that book".split(), "NN V DET NN".split()),
]
SMALL_MODEL = {
    "embed_width": 16,
    "hidden_width": 16,
    "depth": 1,
    "feature_dropout": 0.0,
    "min_freq": 1,
    "char_width": 8,
}

V2_MODEL = {
    "@architectures": "spacy_lstm_tagger.LSTMTagger.v2",
    "attrs": ["NORM", "SHAPE"],
    "prefix_lengths": [1, 2, 3],
    "suffix_lengths": [1, 2, 3, 4],
    "bidirectional": True,
    "char_length": 16,
    "new_value_rows": 16384,
    "cpu_bfloat16": True,
    **SMALL_MODEL,
}
"""The small tutorial model, in the v2 architecture (one torch network, Docs to tags)."""

V3_MODEL = {
    "@architectures": "spacy_lstm_tagger.LSTMTagger.v3",
    "encoder": {**V2_MODEL, "@architectures": "spacy_lstm_tagger.LSTMEncoder.v1", "cpu_bfloat16": False},
}
"""The small tutorial model, in the v3 architecture: chain(encoder, output), float32 kernels in
training; the rest of its settings are the factory default's."""


def v3_model(**encoder_overrides) -> dict:
    """V3_MODEL's config with some of the encoder's settings changed."""
    return {**V3_MODEL, "encoder": {**V3_MODEL["encoder"], **encoder_overrides}}


def tutorial_examples(nlp):
    """The tutorial's two sentences as training examples."""
    from spacy.tokens import Doc
    from spacy.training import Example

    return [
        Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=tags))
        for words, tags in TUTORIAL_DATA
    ]


def train_tutorial_tagger(steps: int = 60, model: dict = None, **model_overrides):
    """A blank English pipeline whose lstm_tagger has overfitted the tutorial sentences; its
    model is V2_MODEL with the overrides, or `model`."""
    import spacy
    from spacy.util import fix_random_seed

    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": model or {**V2_MODEL, **model_overrides}})
    examples = tutorial_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return nlp


@pytest.fixture(scope="session")
def tutorial_nlp():
    return train_tutorial_tagger()


@pytest.fixture(scope="session")
def tutorial_model_path(tutorial_nlp, tmp_path_factory):
    """The tutorial tagger saved as a pipeline directory, as commands load it."""
    path = tmp_path_factory.mktemp("tutorial-model") / "model"
    tutorial_nlp.to_disk(path)
    return path


def corpus_texts(count: int, seed: int = 0):
    """`count` texts of 1 to 12 words, from the tutorial's words and some it never saw."""
    import random

    words = "The the dog ate apple Everybody read that book cat sat on a mat quickly".split()
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(count)]


def assert_wheel_says_what_it_is(wheel) -> None:
    """A packaged pipeline's wheel has the licence, description and sources of corpus/meta.json,
    in its package metadata and in the meta.json it installs."""
    import json
    import zipfile

    expected = json.loads((ROOT / "corpus" / "meta.json").read_text())
    with zipfile.ZipFile(wheel) as files:
        names = files.namelist()
        metadata = files.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        metas = [json.loads(files.read(n)) for n in names if n.endswith("/meta.json")]
    assert "License: CC BY-SA 4.0" in metadata.splitlines()
    assert f"Summary: {expected['description']}" in metadata.splitlines()
    assert "https://github.com/UniversalDependencies/UD_English-EWT" in metadata  # the README's sources
    assert metas and all(meta["license"] == "CC BY-SA 4.0" and meta["sources"] == expected["sources"] for meta in metas)
