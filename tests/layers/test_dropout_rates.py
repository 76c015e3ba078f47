"""spaCy's dropout rate reaches the network: `drop` of each update is the rate it applies,
feature dropout only in updates with a rate above 0, and none when tagging."""
import pytest
import spacy
from spacy.util import fix_random_seed
from thinc.api import Adam, set_dropout_rate

from conftest import V2_MODEL, tutorial_examples

V1 = {"@architectures": "spacy_lstm_tagger.LSTMTagger.v1", "attrs": ["NORM"], "prefix_lengths": [1],
      "suffix_lengths": [2], "min_freq": 1, "embed_width": 8, "hidden_width": 8, "depth": 2,
      "bidirectional": True, "dropout": 0.3, "feature_dropout": 0.1}


def initialized(model=None):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": model or {**V2_MODEL, "depth": 2, "feature_dropout": 0.2}})
    nlp.initialize(lambda: tutorial_examples(nlp))
    return nlp


def after_update(nlp_bytes: bytes, model, drop: float, seed: int) -> bytes:
    """The pipeline's bytes after one update with `drop`, from the same start, under another
    random seed."""
    nlp = initialized(model).from_bytes(nlp_bytes)
    fix_random_seed(seed)
    nlp.update(tutorial_examples(nlp), sgd=Adam(0.01), drop=drop)
    return nlp.get_pipe("lstm_tagger").model.to_bytes()


@pytest.mark.parametrize("drop,deterministic", [(0.0, True), (0.3, False)])
def test_an_update_is_deterministic_exactly_when_drop_is_0(drop, deterministic):
    start = initialized().to_bytes()
    results = {after_update(start, None, drop, seed) for seed in (1, 2)}
    assert (len(results) == 1) == deterministic


def test_v1_keeps_its_fixed_rates_whatever_drop():
    """A v1 model trains as it did when it was saved: its config's dropout, even at drop=0."""
    start = initialized(V1).to_bytes()
    assert len({after_update(start, V1, 0.0, seed) for seed in (1, 2)}) == 2


def test_the_rates_each_call_gets():
    from spacy_lstm_tagger.layers.architectures import dropout_rates

    network = initialized().get_pipe("lstm_tagger").model.get_ref("network")
    v1_network = initialized(V1).get_pipe("lstm_tagger").model.get_ref("network")
    for rate, expected in ((0.0, (0.0, 0.0)), (0.3, (0.3, 0.2))):
        set_dropout_rate(network, rate)
        set_dropout_rate(v1_network, rate)
        assert dropout_rates(network, is_train=True) == expected
        assert dropout_rates(network, is_train=False) == (0.0, 0.0)
        assert dropout_rates(v1_network, is_train=True) == (0.3, 0.1)
        assert dropout_rates(v1_network, is_train=False) == (0.0, 0.0)


def test_tagging_never_drops():
    nlp = initialized()
    set_dropout_rate(nlp.get_pipe("lstm_tagger").model, 0.5)
    tagger = nlp.get_pipe("lstm_tagger")
    docs = [nlp.make_doc("The dog ate the apple")]
    first, second = tagger.predict(docs)[0], tagger.predict(docs)[0]
    assert (first == second).all()
