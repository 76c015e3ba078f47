"""One pipeline shared by several threads, as a threaded web service shares it: every thread
gets exactly the tags of tagging the same Docs one by one."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import spacy
import torch
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import fix_random_seed
from thinc.api import Adam

from conftest import ROOT, SMALL_MODEL, V2_MODEL
from spacy_lstm_tagger.pytorch import execution

THREADS = 6


@pytest.fixture
def one_torch_thread():
    """One torch thread per caller, as a threaded server should run (see the README): six
    threads, each with a pool of torch threads, would oversubscribe the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def trained_on_ewt(architecture: dict):
    """A small tagger trained briefly on EWT sentences with dropout, as spacy train does."""
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": {**(SMALL_MODEL if architecture else V2_MODEL), "depth": 2, **architecture}})
    docs = list(DocBin().from_disk(ROOT / "corpus" / "train.spacy").get_docs(nlp.vocab))[:300]
    examples = [Example(Doc(nlp.vocab, words=[t.text for t in doc]), doc) for doc in docs]
    optimizer = nlp.initialize(lambda: examples, sgd=Adam(0.01))
    for start in range(0, 300, 30):
        nlp.update(examples[start : start + 30], sgd=optimizer, drop=0.25)
    return nlp


def dev_words(n: int):
    vocab = spacy.blank("en").vocab
    return [[t.text for t in doc] for doc in DocBin().from_disk(ROOT / "corpus" / "dev.spacy").get_docs(vocab)][:n]


@pytest.mark.parametrize(
    "architecture",
    [{}, {"@architectures": "spacy_lstm_tagger.LSTMTagger.v1", "attrs": ["NORM", "SHAPE"], "prefix_lengths": [1, 2],
          "suffix_lengths": [1, 2, 3], "bidirectional": True, "dropout": 0.25, "feature_dropout": 0.05}],
    ids=["v2", "v1 with its fixed dropout"],
)
def test_threads_tag_as_one_thread_does(architecture, one_torch_thread):
    nlp = trained_on_ewt(architecture)
    # A small word-type cache, so that threads also start it again while others read it.
    model = nlp.get_pipe("lstm_tagger").model
    model.get_ref("features").attrs["affix_ids"].max_keys = 300
    sentences = dev_words(400)
    expected = [[t.tag_ for t in nlp(Doc(nlp.vocab, words=words))] for words in sentences]
    # And a small cache of the first layer's gates (made by the Docs just tagged), which the
    # threads tagging one Doc at a time and those tagging small (NumPy path) or large batches
    # (torch path) share.
    _, _, derived = model.get_ref("network").shims[0].module._derived
    _, first_gates = derived[execution.GATE_TABLES]
    first_gates.cache.max_keys = 300

    def one_by_one(offset: int):
        order = sentences[offset:] + sentences[:offset]
        return [[t.tag_ for t in nlp(Doc(nlp.vocab, words=words))] for words in order]

    def piped(offset: int, batch_size: int):
        order = sentences[offset:] + sentences[:offset]
        docs = nlp.pipe((Doc(nlp.vocab, words=words) for words in order), batch_size=batch_size)
        return [[t.tag_ for t in doc] for doc in docs]

    with ThreadPoolExecutor(THREADS) as pool:
        jobs = [pool.submit(one_by_one, 97 * i) if i % 2 else pool.submit(piped, 97 * i, 16 if i % 4 else 128)
                for i in range(THREADS)]
        results = [job.result() for job in jobs]
    for i, tags in enumerate(results):
        offset = 97 * i
        differing = sum(a != b for a, b in zip(tags, expected[offset:] + expected[:offset]))
        assert differing == 0, f"thread {i}: {differing} of {len(tags)} Docs tagged differently"
