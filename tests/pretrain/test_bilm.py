"""The bidirectional language-model objective: its targets, its gradient, and that it learns."""
import numpy
import pytest
import spacy
from spacy.attrs import NORM
from spacy.tokens import Doc
from thinc.api import Adam, NumpyOps

from conftest import v3_model
from spacy_lstm_tagger.pretrain.bilm import bilm_loss, create_pretrain_bilm, word_buckets

N_HASHES, N_BUCKETS = 2, 8


def docs_of(vocab, texts):
    return [Doc(vocab, words=text.split()) for text in texts]


def random_scores(docs, seed=0):
    rng = numpy.random.default_rng(seed)
    n = sum(len(doc) for doc in docs)
    return tuple(rng.normal(size=(n, N_HASHES * N_BUCKETS)) for _ in range(2))


def loss(docs, scores):
    return bilm_loss(NumpyOps(), docs, scores, n_hashes=N_HASHES, n_buckets=N_BUCKETS, attr_id=NORM)


def test_each_word_has_the_same_buckets_wherever_it_is():
    vocab = spacy.blank("en").vocab
    buckets = word_buckets(docs_of(vocab, ["the dog saw the cat", "", "The end"]), N_HASHES, N_BUCKETS, NORM)
    assert buckets.shape == (7, N_HASHES)
    assert (buckets[0] == buckets[3]).all() and (buckets[0] == buckets[5]).all()  # "the", "the", "The"
    assert ((0 <= buckets) & (buckets < N_BUCKETS)).all()


def test_the_gradient_is_the_losss():
    docs = docs_of(spacy.blank("en").vocab, ["the dog saw the cat", "a cat", "one"])
    scores = random_scores(docs)
    value, gradients = loss(docs, scores)
    for direction in (0, 1):
        for row, column in ((0, 3), (2, 9), (5, 0)):
            shifted = [s.copy() for s in scores]
            shifted[direction][row, column] += 1e-6
            numeric = (loss(docs, tuple(shifted))[0] - value) / 1e-6
            assert numeric == pytest.approx(gradients[direction][row, column], abs=1e-5)


def test_a_docs_last_word_predicts_no_next_word_and_its_first_no_previous_one():
    docs = docs_of(spacy.blank("en").vocab, ["the dog saw", "a cat", "one"])
    forward, backward = loss(docs, random_scores(docs))[1]
    assert [bool(forward[i].any()) for i in range(6)] == [True, True, False, True, False, False]
    assert [bool(backward[i].any()) for i in range(6)] == [False, True, True, False, True, False]


def test_the_encoder_learns_to_predict_its_neighbours():
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": v3_model(depth=2)})
    encoder = nlp.get_pipe("lstm_tagger").model.get_ref("encoder")
    docs = [nlp.make_doc(text) for text in ["the dog ate the apple", "everybody read that book"] * 4]
    model = create_pretrain_bilm(N_HASHES, 64)(nlp.vocab, encoder)
    model.initialize(X=docs[:1])
    assert model.get_ref("tok2vec") is encoder
    objective, optimizer, losses = model.attrs["loss"], Adam(0.01), []
    for _ in range(100):
        scores, backprop = model.begin_update(docs)
        value, gradients = objective(model.ops, docs, scores)
        backprop(gradients)
        model.finish_update(optimizer)
        losses.append(value)
    assert losses[0] == pytest.approx(2 * numpy.log(64), rel=0.05)  # uniform over the buckets at first
    assert losses[-1] < 0.25 * losses[0]


def test_it_trains_only_an_lstm_encoder():
    with pytest.raises(ValueError, match='layer = "encoder"'):
        create_pretrain_bilm()(spacy.blank("en").vocab, spacy.blank("en").add_pipe("tok2vec").model)


def test_an_initialized_encoder_is_not_initialized_again():
    """`spacy pretrain` initializes the layer, then the objective: the encoder keeps its tables
    and weights (a second initialize would draw new ones and read table_text again)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": v3_model(depth=1)})
    encoder = nlp.get_pipe("lstm_tagger").model.get_ref("encoder")
    encoder.initialize(X=docs_of(nlp.vocab, ["the dog ate the apple"]))
    module = encoder.get_ref("network").shims[0].module
    before = {name: value.clone() for name, value in module.state_dict().items()}
    create_pretrain_bilm(N_HASHES, N_BUCKETS)(nlp.vocab, encoder).initialize(X=docs_of(nlp.vocab, ["a cat"]))
    after = encoder.get_ref("network").shims[0].module.state_dict()
    assert before.keys() == after.keys() and all((before[name] == after[name]).all() for name in before)
    assert module.generation == 1
