"""The v3 architecture: chain(encoder, output), tagging in one pass as the chain does in two,
saved and loaded whole or encoder alone, as `spacy pretrain` and `init_tok2vec` do."""
import numpy
import pytest
import spacy
import srsly
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import set_dropout_rate

from conftest import ROOT, TUTORIAL_DATA, V3_MODEL, train_tutorial_tagger, v3_model
from spacy_lstm_tagger.layers.encoder import encode
from spacy_lstm_tagger.pytorch import execution


@pytest.fixture(scope="module")
def nlp():
    return train_tutorial_tagger(model=v3_model(depth=2))


def tagger_model(nlp):
    return nlp.get_pipe("lstm_tagger").model


def docs_of(nlp, n_docs: int, words=("The", "dog", "read", "that", "book", "zebra", ".")):
    rng = numpy.random.default_rng(n_docs)
    return [Doc(nlp.vocab, words=[str(w) for w in rng.choice(words, size=rng.integers(1, 12))]) for _ in range(n_docs)]


def test_it_learns_the_tutorial(nlp):
    for words, tags in TUTORIAL_DATA:
        assert [token.tag_ for token in nlp(Doc(nlp.vocab, words=words))] == tags


def test_the_encoder_is_a_layer_under_its_stated_name(nlp):
    model = tagger_model(nlp)
    encoder = model.get_ref("encoder")
    assert model.layers == [encoder, model.get_ref("output")]
    states = encoder.predict(docs_of(nlp, 3))
    assert [s.shape for s in states] == [(len(d), 32) for d in docs_of(nlp, 3)]


@pytest.mark.parametrize("n_docs", [1, 40])  # the numpy_steps and the gate_tables paths
def test_tagging_in_one_pass_gives_the_chains_probabilities(nlp, n_docs, monkeypatch):
    model = tagger_model(nlp)
    docs = docs_of(nlp, n_docs)
    paths = []
    choose = execution.choose_path
    monkeypatch.setattr(execution, "choose_path", lambda **kw: paths.append(choose(**kw)) or paths[-1])
    joined = numpy.concatenate(model.predict(docs))
    assert paths == [execution.NUMPY_STEPS if n_docs == 1 else execution.GATE_TABLES]
    states = numpy.concatenate(model.get_ref("encoder").predict(docs))
    chained = model.ops.softmax(model.get_ref("output").predict(states))
    numpy.testing.assert_allclose(joined, chained, atol=1e-5)
    set_dropout_rate(model, 0.0)
    trained, _ = model.begin_update(docs)  # the training pass (padded path), no dropout
    numpy.testing.assert_allclose(numpy.concatenate(trained), joined, atol=1e-5)


def test_quantized_tagging_keeps_the_tags(nlp):
    docs = docs_of(nlp, 20)
    float_tags = [p.argmax(axis=1) for p in nlp.get_pipe("lstm_tagger").predict(docs)]
    quantized = spacy.blank("en")
    quantized.add_pipe("lstm_tagger", config={"model": v3_model(depth=2), "quantize": True})
    quantized.from_bytes(nlp.to_bytes())
    int8_tags = [p.argmax(axis=1) for p in quantized.get_pipe("lstm_tagger").predict(docs)]
    agreement = numpy.mean(numpy.concatenate(float_tags) == numpy.concatenate(int8_tags))
    assert agreement > 0.9


def test_saved_and_loaded_it_tags_the_same(nlp, tmp_path):
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    docs = docs_of(nlp, 30)
    for before, after in zip(nlp.get_pipe("lstm_tagger").predict(docs), loaded.get_pipe("lstm_tagger").predict(docs)):
        numpy.testing.assert_array_equal(before, after)


def test_a_v3_pipeline_saved_before_init_W_loads_and_tags_the_same(nlp, tmp_path):
    """v3 pipelines saved before it had `init_W` have no such section in their config."""
    nlp.to_disk(tmp_path / "model")
    config = (tmp_path / "model" / "config.cfg").read_text()
    section = '[components.lstm_tagger.model.init_W]\n@initializers = "glorot_uniform_init.v1"'
    assert section in config
    (tmp_path / "model" / "config.cfg").write_text(config.replace(section, ""))
    loaded = spacy.load(tmp_path / "model")
    docs = docs_of(nlp, 10)
    for ours, theirs in zip(tagger_model(nlp).predict(docs), tagger_model(loaded).predict(docs)):
        numpy.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("null, expected", [(False, "glorot_uniform_init"), (True, None)])
def test_a_v3_config_without_init_W_gets_the_factory_defaults(null, expected):
    """spaCy fills a v3 model block from the factory's default model: no `init_W` entry means
    Glorot's, as docs/training.md says; `init_W = null` keeps the zero start."""
    config = spacy.util.load_config(ROOT / "configs" / "lstm_tagger_pretrain.cfg")
    del config["components"]["lstm_tagger"]["model"]["init_W"]
    if null:
        config["components"]["lstm_tagger"]["model"]["init_W"] = None
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    init_W = tagger_model(nlp).init.keywords["init_W"]
    assert (init_W.func.__name__ if init_W is not None else None) == expected


@pytest.mark.parametrize("init_W", [{"@initializers": "glorot_uniform_init.v1"}, None])
def test_every_tag_starts_equally_likely(init_W):
    """With init_W (the factory default's), the output weights start random and the encoder's top
    layer's states at zero; without, the output weights start at zero. Either way spaCy's
    tagger tests find the start they expect: every tag equally likely."""
    nlp = spacy.blank("en")
    model = v3_model(depth=2)
    tagger = nlp.add_pipe("lstm_tagger", config={"model": {**model, "init_W": init_W} if init_W else model})
    if init_W is None:  # the factory default's init_W is merged in unless the section is removed
        tagger.model.init.keywords["init_W"] = None
    examples = [Example(Doc(nlp.vocab, words=w), Doc(nlp.vocab, words=w, tags=t)) for w, t in TUTORIAL_DATA]
    nlp.initialize(lambda: examples)
    probabilities = numpy.concatenate(tagger.model.predict(docs_of(nlp, 5)))
    numpy.testing.assert_allclose(probabilities, 1 / probabilities.shape[1], atol=1e-7)
    weight = tagger.model.get_ref("output").shims[0]._model.weight
    assert bool(weight.abs().sum() > 0) is (init_W is not None)


def test_loading_encoder_weights_keeps_the_output_layer(nlp):
    """What `[initialize] init_tok2vec` does after `initialize`: the encoder's bytes (from
    `spacy pretrain`) replace its tables and weights; the output layer stays as it is."""
    fresh = spacy.blank("en")
    fresh.add_pipe("lstm_tagger", config={"model": v3_model(depth=2)})
    other = [Example.from_dict(fresh.make_doc("A cat sat"), {"tags": ["DET", "NN", "V"]})]
    fresh.initialize(lambda: other)  # other words: other tables
    model, trained = tagger_model(fresh), tagger_model(nlp)
    output_before = model.get_ref("output").shims[0].module.weight.detach().clone()
    model.get_ref("encoder").from_bytes(trained.get_ref("encoder").to_bytes())
    docs = docs_of(nlp, 5)
    for mine, theirs in zip(model.get_ref("encoder").predict(docs), trained.get_ref("encoder").predict(docs)):
        numpy.testing.assert_array_equal(mine, theirs)
    assert model.get_ref("output").shims[0].module.weight.equal(output_before)
    # ... and the tagger tags with the loaded encoder, in one pass as in two.
    states = numpy.concatenate(model.get_ref("encoder").predict(docs))
    chained = model.ops.softmax(model.get_ref("output").predict(states))
    numpy.testing.assert_allclose(numpy.concatenate(model.predict(docs)), chained, atol=1e-5)


def test_the_first_layers_forward_states_have_not_read_the_next_word(nlp):
    encoder = tagger_model(nlp).get_ref("encoder")
    a = Doc(nlp.vocab, words=["The", "dog", "read", "that", "book"])
    b = Doc(nlp.vocab, words=["The", "dog", "read", "the", "apple"])
    for depth, forward_sees_later_words in ((1, False), (2, True)):
        states_a, states_b = [encode(encoder, [doc], False, depth=depth)[0] for doc in (a, b)]
        forward, backward = slice(0, 16), slice(16, 32)
        assert numpy.array_equal(states_a[:3, forward], states_b[:3, forward]) != forward_sees_later_words
        assert not numpy.allclose(states_a[:3, backward], states_b[:3, backward])


def test_the_first_layers_states_are_the_same_in_training_and_tagging(nlp):
    """The padded path (training, here without dropout) and the packed one (tagging) give the
    first layer's states alike, as the BiLM objective reads them."""
    encoder = tagger_model(nlp).get_ref("encoder")
    set_dropout_rate(encoder, 0.0)
    docs = docs_of(nlp, 12)
    trained, _, _ = encode(encoder, docs, True, depth=1)
    tagged, _, _ = encode(encoder, docs, False, depth=1)
    assert trained.shape == (sum(len(doc) for doc in docs), 32)
    numpy.testing.assert_allclose(trained, tagged, atol=1e-5)


def test_table_text_gives_the_raw_texts_words_rows(tmp_path):
    raw = tmp_path / "raw.jsonl"
    srsly.write_jsonl(raw, [{"text": "A zyzzyva sat."}, {"text": "Zyzzyva again."}])
    nlp = train_tutorial_tagger(steps=1, model=v3_model(table_text=str(raw)))
    features = tagger_model(nlp).get_ref("encoder").get_ref("features")
    norm_table = features.attrs["tables"][0]
    assert nlp.vocab.strings["zyzzyva"] in norm_table
    assert nlp.vocab.strings["dog"] in norm_table  # the training Docs' words too


@pytest.mark.parametrize("name,error", [("missing.jsonl", "does not exist"), ("text.txt", "neither JSONL")])
def test_table_text_that_cannot_be_read_is_named_at_initialize(tmp_path, name, error):
    (tmp_path / "text.txt").write_text("words")
    with pytest.raises(ValueError, match=error):
        train_tutorial_tagger(steps=0, model=v3_model(table_text=str(tmp_path / name)))


def test_a_trained_model_loads_where_its_table_text_is_gone(tmp_path):
    raw = tmp_path / "raw.jsonl"
    srsly.write_jsonl(raw, [{"text": "A zyzzyva sat."}])
    nlp = train_tutorial_tagger(steps=2, model=v3_model(table_text=str(raw)))
    nlp.to_disk(tmp_path / "model")
    raw.unlink()
    loaded = spacy.load(tmp_path / "model")
    doc = Doc(loaded.vocab, words=["The", "zyzzyva"])
    numpy.testing.assert_array_equal(loaded.get_pipe("lstm_tagger").predict([doc])[0],
                                     nlp.get_pipe("lstm_tagger").predict([doc])[0])


def test_v3_wants_an_lstm_encoder():
    config = {**V3_MODEL, "encoder": {"@architectures": "spacy.HashEmbedCNN.v2", "width": 8, "depth": 1,
                                      "embed_size": 100, "window_size": 1, "maxout_pieces": 2,
                                      "subword_features": False, "pretrained_vectors": None}}
    with pytest.raises(ValueError, match="LSTMEncoder"):
        spacy.blank("en").add_pipe("lstm_tagger", config={"model": config})
