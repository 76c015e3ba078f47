"""include_static_vectors: each token's row of the vocab's vectors, from a table that
`spacy init vectors` builds here, reaches the network (plain and floret tables)."""
import json
import subprocess
import sys

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed
from thinc.api import NumpyOps

from conftest import ROOT, V2_MODEL, v3_model
from spacy_lstm_tagger.pytorch import windows
from spacy_lstm_tagger.layers.static_vectors import token_vectors

NOUNS = ["dog", "cat", "house", "tree", "car", "book", "river", "stone"]
VERBS = ["run", "eat", "sing", "jump", "read", "swim", "walk", "talk"]
WIDTH = 8
VECTORS_MODEL = {**V2_MODEL, "include_static_vectors": True}


def write_vectors(path, words_and_vectors, header=None):
    """A vectors text file as `spacy init vectors` reads it (word2vec, or floret with `header`)."""
    lines = [header or f"{len(words_and_vectors)} {WIDTH}"]
    lines += [f"{word} " + " ".join(f"{x:.6f}" for x in vector) for word, vector in words_and_vectors]
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


def init_vectors(text_file, output, *options):
    """`python -m spacy init vectors en TEXT_FILE OUTPUT`: the vocab of a pipeline with the vectors."""
    command = [sys.executable, "-m", "spacy", "init", "vectors", "en", text_file, output, *options]
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return spacy.load(output).vocab.vectors


@pytest.fixture(scope="module")
def word_vectors(tmp_path_factory):
    """Nouns near one direction, verbs near another; "blick" (noun-like) and "wug" (verb-like)
    are words the training data below never shows."""
    rng = numpy.random.default_rng(0)
    noun, verb = rng.normal(size=WIDTH), rng.normal(size=WIDTH)
    rows = [(word, noun + 0.3 * rng.normal(size=WIDTH)) for word in NOUNS + ["blick"]]
    rows += [(word, verb + 0.3 * rng.normal(size=WIDTH)) for word in VERBS + ["wug"]]
    folder = tmp_path_factory.mktemp("vectors")
    return init_vectors(write_vectors(folder / "vectors.txt", rows), folder / "pipeline")


def one_word_examples(nlp):
    """Each word alone, so nothing but the word itself says whether it is a noun or a verb."""
    pairs = [(word, "NN") for word in NOUNS] + [(word, "VB") for word in VERBS]
    return [Example(Doc(nlp.vocab, words=[w]), Doc(nlp.vocab, words=[w], tags=[t])) for w, t in pairs]


def train_with(vectors, steps=100, model=VECTORS_MODEL):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.vocab.vectors = vectors
    nlp.add_pipe("lstm_tagger", config={"model": model})
    examples = one_word_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer, drop=0.1)
    return nlp


def copy_of(nlp):
    """A copy of a trained pipeline, through to_bytes and from_bytes."""
    copy = spacy.blank("en")
    copy.add_pipe("lstm_tagger", config={"model": VECTORS_MODEL})
    return copy.from_bytes(nlp.to_bytes())


def tag(nlp, word):
    return nlp(Doc(nlp.vocab, words=[word]))[0].tag_


@pytest.fixture(scope="module")
def trained(word_vectors):
    return train_with(word_vectors)


def test_words_never_seen_are_tagged_by_their_vectors(trained):
    assert [tag(trained, word) for word in ["blick", "wug"]] == ["NN", "VB"]


def test_the_v3_encoder_takes_them_too(word_vectors):
    nlp = train_with(word_vectors, model=v3_model(include_static_vectors=True))
    assert [tag(nlp, word) for word in ["blick", "wug"]] == ["NN", "VB"]
    copy = spacy.blank("en")
    copy.add_pipe("lstm_tagger", config={"model": v3_model(include_static_vectors=True)})
    copy.from_bytes(nlp.to_bytes())
    words = ["blick", "wug", "dog", "zzz"]
    numpy.testing.assert_array_equal(copy.get_pipe("lstm_tagger").predict([Doc(copy.vocab, words=words)])[0],
                                     nlp.get_pipe("lstm_tagger").predict([Doc(nlp.vocab, words=words)])[0])


def test_swapping_two_vectors_swaps_the_tags(trained, word_vectors):
    """The same trained network, the vocab's rows of the two unseen words exchanged."""
    nlp = copy_of(trained)
    vectors = nlp.vocab.vectors
    blick, wug = vectors.find(key="blick"), vectors.find(key="wug")
    vectors.add("blick", row=wug)
    vectors.add("wug", row=blick)
    assert [tag(nlp, word) for word in ["blick", "wug"]] == ["VB", "NN"]


def test_vectors_are_frozen_and_saved_with_the_pipeline(trained, word_vectors, tmp_path):
    numpy.testing.assert_array_equal(trained.vocab.vectors.data, word_vectors.data)  # training left them alone
    trained.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    numpy.testing.assert_array_equal(loaded.vocab.vectors.data, word_vectors.data)
    words = ["blick", "wug", "dog", "zzz"]
    numpy.testing.assert_allclose(
        loaded.get_pipe("lstm_tagger").predict([Doc(loaded.vocab, words=words)])[0],
        trained.get_pipe("lstm_tagger").predict([Doc(trained.vocab, words=words)])[0],
        rtol=1e-6,
    )


def test_int8_tagging_keeps_the_vectors(trained, tmp_path):
    trained.to_disk(tmp_path / "model")
    int8 = spacy.load(tmp_path / "model", config={"components": {"lstm_tagger": {"quantize": True}}})
    assert [tag(int8, word) for word in ["blick", "wug"] + NOUNS + VERBS] == ["NN", "VB"] + ["NN"] * 8 + ["VB"] * 8


def test_rows_are_spacys_and_zero_for_words_without_one(word_vectors):
    nlp = spacy.blank("en")
    nlp.vocab.vectors = word_vectors
    docs = [Doc(nlp.vocab, words=["dog", "zzz"]), Doc(nlp.vocab, words=[]), Doc(nlp.vocab, words=["wug"])]
    rows = token_vectors(NumpyOps(), docs)
    assert rows.dtype == numpy.float32 and rows.shape == (3, WIDTH)
    numpy.testing.assert_array_equal(rows, [word_vectors["dog"], numpy.zeros(WIDTH), word_vectors["wug"]])


def test_floret_vectors_reach_the_network(tmp_path):
    """A floret table (hashed subword rows): rows as Vectors.get_batch gives them; a tagger
    trained with them changes its output when the table changes."""
    rng = numpy.random.default_rng(1)
    buckets = [(str(i), rng.normal(size=WIDTH)) for i in range(500)]
    header = f"500 {WIDTH} 3 4 2 0 < >"  # buckets, width, minn, maxn, hash_count, seed, BOW, EOW
    vectors = init_vectors(write_vectors(tmp_path / "floret.txt", buckets, header), tmp_path / "pipeline",
                           "--mode", "floret")
    assert vectors.mode == "floret"
    nlp = train_with(vectors, steps=30)
    docs = [Doc(nlp.vocab, words=["blick", "dog", "wug"])]
    keys = numpy.asarray([t.orth for t in docs[0]], dtype="uint64")
    numpy.testing.assert_array_equal(token_vectors(NumpyOps(), docs), vectors.get_batch(keys))
    before = nlp.get_pipe("lstm_tagger").predict(docs)[0]
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.vocab.vectors.mode == "floret"
    numpy.testing.assert_allclose(loaded.get_pipe("lstm_tagger").predict(docs)[0], before, rtol=1e-6)
    nlp.vocab.vectors.data = numpy.zeros_like(vectors.data)
    assert numpy.abs(nlp.get_pipe("lstm_tagger").predict(docs)[0] - before).max() > 1e-3


def test_initialize_without_vectors_says_how_to_add_them():
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": VECTORS_MODEL})
    examples = one_word_examples(nlp)
    with pytest.raises(ValueError, match=r"no vectors.*\[initialize\] vectors = .*spacy init vectors"):
        nlp.initialize(lambda: examples)


def test_off_by_default():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger")
    assert tagger.model.get_ref("encoder").get_ref("network").shims[0].module.static_vectors is None
    assert spacy.util.load_config(ROOT / "configs" / "lstm_tagger.cfg")["components"]["lstm_tagger"]["model"].get(
        "include_static_vectors", False) is False


def test_other_vectors_than_the_trained_ones_are_refused(trained):
    nlp = copy_of(trained)
    nlp.vocab.vectors = spacy.vocab.Vectors(strings=nlp.vocab.strings, shape=(2, WIDTH + 1))
    nlp.vocab.vectors.add("dog", row=0)
    with pytest.raises(ValueError, match="vectors are 9 wide, but the model was trained with 8-wide"):
        nlp(Doc(nlp.vocab, words=["dog"]))


def test_long_docs_take_their_vectors_window_by_window(trained):
    words = (NOUNS + VERBS + ["blick", "wug"]) * 70
    assert len(words) > windows.WINDOW + 2 * windows.CONTEXT
    model = trained.get_pipe("lstm_tagger").model
    docs = [Doc(trained.vocab, words=words)]
    (ids, lengths), _ = model.get_ref("features")(docs, False)
    whole, _ = model.get_ref("network")((ids, lengths, token_vectors(model.ops, docs)), False)
    windowed = model.predict(docs)[0]
    assert (windowed.argmax(axis=1) == whole.argmax(axis=1)).mean() == pytest.approx(1.0)
    without_vectors, _ = model.get_ref("network")((ids, lengths), False)
    assert not numpy.allclose(without_vectors, whole, atol=1e-3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_trains_and_tags_with_vectors_as_the_cpu_does(trained, word_vectors, tmp_path):
    """On a GPU the vectors' rows reach the network on its device: it tags as the CPU does
    (a long Doc included), and training there runs and tags the unseen words by their vectors."""
    pytest.importorskip("cupy")
    trained.to_disk(tmp_path / "model")
    word_vectors.to_disk(tmp_path / "vectors")
    words = [["blick", "wug", "dog", "zzz"], (NOUNS + VERBS + ["blick", "wug"]) * 70]
    code = (
        "import json, sys, spacy; from spacy.tokens import Doc; spacy.require_gpu(); "
        "sys.path.insert(0, 'tests'); import test_static_vectors as t; from spacy.vectors import Vectors; "
        "nlp = spacy.load(sys.argv[1]); words = json.loads(sys.argv[2]); "
        "tags = [[tok.tag_ for tok in nlp(Doc(nlp.vocab, words=w))] for w in words]; "
        "gpu_trained = t.train_with(Vectors().from_disk(sys.argv[3])); "
        "print(json.dumps([tags, [t.tag(gpu_trained, w) for w in ['blick', 'wug']]]))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "model"), json.dumps(words), str(tmp_path / "vectors")],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    gpu_tags, gpu_trained_tags = json.loads(result.stdout)
    assert gpu_tags == [[t.tag_ for t in trained(Doc(trained.vocab, words=w))] for w in words]
    assert gpu_trained_tags == ["NN", "VB"]
