"""A Doc tagged alone (nlp(doc)) gets the tags and probabilities it gets in a batch of 256, though
the two run different execution paths (numpy_steps and gate_tables)."""
import numpy
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import fix_random_seed, load_config, load_model_from_config
from thinc.api import Adam

from conftest import ROOT
from spacy_lstm_tagger.pytorch import execution


def default_model_trained_briefly():
    """The default config's model, trained for 40 updates on 400 training Docs."""
    fix_random_seed(0)
    config = load_config(ROOT / "configs" / "lstm_tagger.cfg")
    nlp = load_model_from_config(config, auto_fill=True)
    examples = [Example(Doc(ref.vocab, words=[t.text for t in ref]), ref)
                for ref in list(DocBin().from_disk(ROOT / "corpus" / "train.spacy").get_docs(nlp.vocab))[:400]]
    optimizer = nlp.initialize(lambda: examples, sgd=Adam(0.002))
    for step in range(40):
        nlp.update(examples[(step * 10) % 400 : (step * 10) % 400 + 10], sgd=optimizer, drop=0.1)
    return nlp


def test_one_doc_at_a_time_gives_the_tags_of_a_batch_of_256(monkeypatch):
    nlp = default_model_trained_briefly()
    tagger = nlp.get_pipe("lstm_tagger")
    dev = list(DocBin().from_disk(ROOT / "corpus" / "dev.spacy").get_docs(nlp.vocab))[:300]
    words = [[t.text for t in doc] for doc in dev]
    taken = []
    for name, path in list(execution.PATHS.items()):
        monkeypatch.setitem(execution.PATHS, name, lambda *args, name=name, path=path: taken.append(name) or path(*args))

    alone = [nlp(Doc(nlp.vocab, words=w)) for w in words]
    assert set(taken) == {execution.NUMPY_STEPS}
    taken.clear()
    batched = list(nlp.pipe((Doc(nlp.vocab, words=w) for w in words), batch_size=256))
    assert taken[0] == execution.GATE_TABLES
    assert [[t.tag_ for t in doc] for doc in alone] == [[t.tag_ for t in doc] for doc in batched]
    assert len({t.tag_ for doc in alone for t in doc}) > 5  # a model that tells tags apart

    probabilities_alone = numpy.concatenate([tagger.predict([doc])[0] for doc in alone[:50]])
    probabilities_batched = numpy.concatenate(tagger.predict(alone[:50]))
    numpy.testing.assert_allclose(probabilities_alone, probabilities_batched, rtol=1e-4, atol=1e-6)
