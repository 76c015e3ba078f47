"""What the network derives from its weights (gate tables, NumPy step weights, the int8 copy) follows every update,
and the averaged weights spaCy evaluates and saves with."""
import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Adam

from conftest import V2_MODEL, tutorial_examples
from spacy_lstm_tagger.pytorch import execution
from spacy_lstm_tagger.pytorch.gate_tables import MIN_TOKENS_PER_STEP


@pytest.mark.parametrize("path,quantize,n_docs", [
    (execution.GATE_TABLES, False, MIN_TOKENS_PER_STEP), (execution.NUMPY_STEPS, False, 1), (execution.INT8, True, 1),
])
def test_derived_weights_follow_updates_and_averages(monkeypatch, path, quantize, n_docs):
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": {**V2_MODEL, "depth": 2}})
    optimizer = nlp.initialize(lambda: tutorial_examples(nlp), sgd=Adam(0.01))
    network = tagger.model.get_ref("network").shims[0].module
    docs = [Doc(nlp.vocab, words=["The", "dog", "read", "that", "book"]) for _ in range(n_docs)]
    taken = []
    monkeypatch.setitem(execution.PATHS, path, lambda *args, run=execution.PATHS[path]: taken.append(path) or run(*args))

    def check():
        tagger.model.attrs["set_quantize"](tagger.model, quantize)
        fast = tagger.predict_uncalibrated(docs)[0]
        tagger.model.attrs["set_quantize"](tagger.model, False)
        (ids, lengths), _ = tagger.model.get_ref("features")(docs, False)
        with torch.no_grad():
            expected = torch.softmax(execution.packed(network, torch.from_numpy(ids), torch.from_numpy(lengths),
                                                      None, 0.0), dim=1)
        numpy.testing.assert_allclose(fast, expected.numpy()[:5], rtol=1e-4 if not quantize else 0.0,
                                      atol=1e-6 if not quantize else 0.02)
        assert taken.pop() == path
        return fast

    before = check()
    for _ in range(3):
        nlp.update(tutorial_examples(nlp), sgd=optimizer)
        check()
    assert not numpy.allclose(before, check())
    with nlp.use_params(optimizer.averages):
        averaged = check()
    assert not numpy.allclose(averaged, check())
    example = Example(Doc(nlp.vocab, words=["wug"]), Doc(nlp.vocab, words=["wug"], tags=["NN"]))
    nlp.update([example], sgd=optimizer)
    check()
