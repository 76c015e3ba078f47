"""The architecture: batch independence, odd lengths, shapes restored on load, the gradient."""
import warnings

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Adam

from conftest import V2_MODEL, train_tutorial_tagger, v3_model
from spacy_lstm_tagger.contract import PREDICT_FLAT, offered


@pytest.fixture(scope="module")
def nlp(tutorial_nlp):
    return tutorial_nlp


def scores(nlp, docs):
    return nlp.get_pipe("lstm_tagger").model.predict(docs)


def test_scores_do_not_depend_on_the_batch(nlp):
    words = "The dog ate the apple and Everybody read that book".split()
    short = Doc(nlp.vocab, words=words[:3])
    long = Doc(nlp.vocab, words=words * 3)
    alone = scores(nlp, [short])[0]
    for batch in ([short, long], [long, short], [Doc(nlp.vocab, words=[]), long, short, short]):
        together = scores(nlp, batch)
        index = next(i for i, doc in enumerate(batch) if doc is short)
        numpy.testing.assert_allclose(together[index], alone, atol=1e-6)


def test_output_shapes_and_probabilities(nlp):
    docs = [Doc(nlp.vocab, words=["dog"] * n) for n in (0, 1, 7)]
    out = scores(nlp, docs)
    assert [a.shape for a in out] == [(0, 3), (1, 3), (7, 3)]
    numpy.testing.assert_allclose(out[2].sum(axis=1), 1.0, rtol=1e-5)


def test_the_components_flat_predictions_are_the_models_per_doc_ones(nlp):
    """The component reads the model's predictions as one array (its `predict_flat`): the same
    values, split the same way, as the model's own arrays per Doc."""
    tagger = nlp.get_pipe("lstm_tagger")
    assert offered(tagger.model, PREDICT_FLAT) is not None
    docs = [Doc(nlp.vocab, words=words) for words in (["The", "dog"], [], ["read", "that", "book", "."])]
    flat = tagger.predict(docs)
    assert [type(doc_scores) for doc_scores in flat] == [numpy.ndarray] * 3
    for doc_flat, doc_scores in zip(flat, scores(nlp, docs)):
        numpy.testing.assert_array_equal(doc_flat, doc_scores)


def test_empty_doc(nlp):
    doc = nlp("")
    assert len(doc) == 0
    assert [len(d) for d in nlp.pipe(["", "", "The dog"])] == [0, 0, 2]


def test_long_doc(nlp):
    words = ("The dog ate the apple . " * 1000).split()
    doc = nlp(Doc(nlp.vocab, words=words))
    assert len(doc) == 6000
    assert [t.tag_ for t in doc[:5]] == ["DET", "NN", "V", "DET", "NN"]
    assert all(t.tag_ in ("DET", "NN", "V") for t in doc)


def test_label_count_restored_from_disk_and_bytes(nlp, tmp_path):
    nlp.to_disk(tmp_path)
    for loaded in (spacy.load(tmp_path), spacy.blank("en")):
        if "lstm_tagger" not in loaded.pipe_names:
            loaded.add_pipe("lstm_tagger", config={"model": nlp.config["components"]["lstm_tagger"]["model"]})
            loaded.from_bytes(nlp.to_bytes())
        model = loaded.get_pipe("lstm_tagger").model
        assert model.get_dim("nO") == 3
        assert model.get_ref("network").shims[0].module.n_labels == 3


def test_gradient_is_cross_entropy_with_respect_to_logits():
    """The loss gradient reaches the output layer as `probabilities - truth`, no second softmax."""
    nlp = train_tutorial_tagger(steps=0)
    tagger = nlp.get_pipe("lstm_tagger")
    network = tagger.model.get_ref("network").shims[0].module
    docs = [Doc(nlp.vocab, words="The dog ate the apple".split())]
    truth = numpy.zeros((5, 3), dtype="float32")
    truth[numpy.arange(5), [0, 1, 2, 0, 1]] = 1.0
    network.zero_grad()
    probabilities, backprop = tagger.model.begin_update(docs)
    backprop([probabilities[0] - truth])
    expected = torch.from_numpy((probabilities[0] - truth).sum(axis=0))
    torch.testing.assert_close(network.output.bias.grad, expected, atol=1e-5, rtol=1e-4)


def test_averaged_weights_reach_torch():
    """Thinc's parameter averages are used inside `use_params`, and undone after it."""
    nlp = train_tutorial_tagger(steps=0)
    model = nlp.get_pipe("lstm_tagger").model
    shim = model.get_ref("network").shims[0]
    optimizer = Adam(0.01, use_averages=True)
    doc = Doc(nlp.vocab, words="The dog ate the apple".split())
    for _ in range(3):
        probabilities, backprop = model.begin_update([doc])
        backprop([probabilities[0] - 0.2])
        model.finish_update(optimizer)
    raw = shim.module.output.bias.detach().clone()
    average = torch.from_numpy(numpy.asarray(optimizer.averages[(shim.id, "output.bias")]))
    assert not torch.allclose(raw, average)
    with model.use_params(optimizer.averages):
        torch.testing.assert_close(shim.module.output.bias.detach(), average)
    torch.testing.assert_close(shim.module.output.bias.detach(), raw)


def test_unknown_words_use_the_unknown_row(nlp):
    features = nlp.get_pipe("lstm_tagger").model.get_ref("features")
    (ids, lengths), _ = features([Doc(nlp.vocab, words=["dog", "zebra"])], False)
    assert lengths.tolist() == [2]
    assert ids[0, 0] > 0 and ids[1, 0] == 0


@pytest.mark.parametrize("size", [{"hidden_width": 0}, {"embed_width": -4}, {"depth": 0}])
def test_invalid_sizes_are_refused_at_config_time(size):
    for model in [{**V2_MODEL, **size}, v3_model(**size)]:
        with pytest.raises(ValueError, match="positive integers"):
            spacy.blank("en").add_pipe("lstm_tagger", config={"model": model})


def test_optimizer_updates_weights_in_place():
    """Each step writes into the same parameter buffers (rebinding them leaked memory)."""
    nlp = train_tutorial_tagger(steps=0)
    model = nlp.get_pipe("lstm_tagger").model
    network = model.get_ref("network").shims[0].module
    pointers = {name: p.data_ptr() for name, p in network.named_parameters()}
    before = network.output.bias.detach().clone()
    optimizer = Adam(0.01)
    doc = Doc(nlp.vocab, words="The dog ate the apple".split())
    for _ in range(3):
        probabilities, backprop = model.begin_update([doc])
        backprop([probabilities[0] - 0.2])
        model.finish_update(optimizer)
    assert {name: p.data_ptr() for name, p in network.named_parameters()} == pointers
    assert not torch.allclose(network.output.bias.detach(), before)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_mixed_precision_true_warns_that_it_does_nothing(version):
    """Saved configs that set it still build; true says, visibly, that it no longer does anything."""
    build = registry.architectures.get(f"spacy_lstm_tagger.LSTMTagger.{version}")
    sizes = dict(attrs=["NORM"], prefix_lengths=[], suffix_lengths=[], min_freq=1, embed_width=4, hidden_width=4,
                 depth=1, bidirectional=False, feature_dropout=0.0, **({"dropout": 0.0} if version == "v1" else {}))
    with pytest.warns(UserWarning, match="mixed_precision no longer does anything"):
        build(**sizes, mixed_precision=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build(**sizes, mixed_precision=False)
