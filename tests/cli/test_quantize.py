"""quantize = true: int8 weights for CPU tagging, as a load-time override and a saved setting."""
import pickle
import subprocess
import sys
import zipfile

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc

from conftest import V2_MODEL, train_tutorial_tagger, tutorial_examples
from spacy_lstm_tagger.cli.quantize import quantize_pipeline
from spacy_lstm_tagger.layers.shim import AveragingPyTorchShim
from spacy_lstm_tagger.pytorch import execution

INT8 = {"components": {"lstm_tagger": {"quantize": True}}}
SENTENCES = ["The dog ate the apple", "Everybody read that book", "The apple read a dog"]


@pytest.fixture(scope="module")
def saved(tutorial_nlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("float")
    tutorial_nlp.to_disk(path)
    return path


def probabilities(nlp):
    docs = [Doc(nlp.vocab, words=text.split()) for text in SENTENCES]
    return numpy.concatenate(nlp.get_pipe("lstm_tagger").predict(docs))


def tags(docs):
    return [[t.tag_ for t in doc] for doc in docs]


def test_load_time_override_tags_with_int8_weights(saved, monkeypatch):
    float_nlp, int8_nlp = spacy.load(saved), spacy.load(saved, config=INT8)
    copies = []
    monkeypatch.setattr(execution, "_int8_copy", lambda network, make=execution._int8_copy: copies.append(
        make(network)) or copies[-1])
    int8, floats = probabilities(int8_nlp), probabilities(float_nlp)
    assert len(copies) == 1  # made once, at the first prediction
    assert type(copies[0].lstm).__module__.startswith("torch.ao.nn.quantized.dynamic")
    assert type(copies[0].output).__module__.startswith("torch.ao.nn.quantized.dynamic")
    assert not numpy.array_equal(int8, floats)  # the int8 weights are in use...
    numpy.testing.assert_allclose(int8, floats, atol=0.05)  # ...and close to the float ones
    assert (int8.argmax(axis=1) == floats.argmax(axis=1)).all()


def test_saved_weights_stay_float(saved, tmp_path):
    int8_nlp = spacy.load(saved, config=INT8)
    int8_nlp.to_disk(tmp_path)
    assert spacy.load(tmp_path).config["components"]["lstm_tagger"]["quantize"] is True
    back_to_float = spacy.load(tmp_path, config={"components": {"lstm_tagger": {"quantize": False}}})
    numpy.testing.assert_array_equal(probabilities(back_to_float), probabilities(spacy.load(saved)))


def test_round_trips_keep_the_int8_tagger(saved, tmp_path):
    int8_nlp = spacy.load(saved, config=INT8)
    expected = probabilities(int8_nlp)
    int8_nlp.to_disk(tmp_path)
    from_bytes = spacy.load(saved).from_bytes(int8_nlp.to_bytes())  # bytes hold weights, not the setting
    from_bytes_int8 = spacy.load(saved, config=INT8).from_bytes(int8_nlp.to_bytes())
    for nlp in (spacy.load(tmp_path), pickle.loads(pickle.dumps(int8_nlp)), from_bytes_int8):
        assert nlp.get_pipe("lstm_tagger").quantize
        numpy.testing.assert_array_equal(probabilities(nlp), expected)
    numpy.testing.assert_array_equal(probabilities(from_bytes), probabilities(spacy.load(saved)))


def test_worker_processes_tag_with_int8(saved):
    int8_nlp = spacy.load(saved, config=INT8)
    texts = SENTENCES * 4
    assert tags(int8_nlp.pipe(texts, n_process=2, batch_size=2)) == tags(int8_nlp.pipe(texts))


def test_training_is_refused(saved):
    nlp = spacy.load(saved, config=INT8)
    with pytest.raises(ValueError, match="quantize = true is for tagging"):
        nlp.update(tutorial_examples(nlp))


def test_int8_follows_the_weights_after_initialize_and_loading(tutorial_nlp):
    """An int8 tagger initialized (all tags equally likely) and then given trained weights tags
    with int8 copies of the trained weights: close to the float tagger's probabilities."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"quantize": True, "model": V2_MODEL})
    nlp.initialize(lambda: tutorial_examples(nlp))
    numpy.testing.assert_allclose(probabilities(nlp), 1 / 3, rtol=1e-6)  # a fresh v2 output layer is zero
    nlp.get_pipe("lstm_tagger").from_bytes(tutorial_nlp.get_pipe("lstm_tagger").to_bytes())
    int8, floats = probabilities(nlp), probabilities(tutorial_nlp)
    assert not numpy.array_equal(int8, floats)
    numpy.testing.assert_allclose(int8, floats, atol=0.05)
    assert tags([nlp(text) for text in SENTENCES[:2]]) == [["DET", "NN", "V", "DET", "NN"], ["NN", "V", "DET", "NN"]]


def test_gpu_is_refused(saved, monkeypatch):
    monkeypatch.setattr(AveragingPyTorchShim, "device", property(lambda self: torch.device("cuda", 0)))
    with pytest.raises(ValueError, match="set quantize = false on a GPU"):
        spacy.load(saved, config=INT8)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_is_refused_on_a_real_gpu(saved):
    spacy.require_gpu()
    try:
        with pytest.raises(ValueError, match="set quantize = false on a GPU"):
            spacy.load(saved, config=INT8)
    finally:
        spacy.require_cpu()


def test_other_models_are_refused():
    tok2vec = {"@architectures": "spacy.HashEmbedCNN.v2", "width": 8, "depth": 1, "embed_size": 100,
               "window_size": 1, "maxout_pieces": 2, "subword_features": False, "pretrained_vectors": None}
    model = {"@architectures": "spacy.Tagger.v2", "tok2vec": tok2vec}
    with pytest.raises(ValueError, match="needs a spacy_lstm_tagger.LSTMTagger model"):
        spacy.blank("en").add_pipe("lstm_tagger", config={"quantize": True, "model": model})


def test_quantize_command_writes_the_setting(saved, tmp_path):
    assert quantize_pipeline(str(saved), tmp_path / "int8") == ["lstm_tagger"]
    loaded = spacy.load(tmp_path / "int8")
    assert loaded.get_pipe("lstm_tagger").quantize
    numpy.testing.assert_array_equal(probabilities(loaded), probabilities(spacy.load(saved, config=INT8)))
    with pytest.raises(ValueError, match="is not an empty folder"):
        quantize_pipeline(str(saved), tmp_path / "int8")


def test_quantize_command_line(saved, tmp_path):
    result = subprocess.run([sys.executable, "-m", "spacy", "lstm-tagger", "quantize", saved, tmp_path / "int8"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Wrote {tmp_path / 'int8'}: quantize = true on lstm_tagger\n"
    assert spacy.load(tmp_path / "int8").get_pipe("lstm_tagger").quantize


def test_quantize_command_needs_an_lstm_tagger(tmp_path):
    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(ValueError, match="has no lstm_tagger component"):
        quantize_pipeline(str(tmp_path / "blank"), tmp_path / "out")


@pytest.mark.slow
def test_spacy_package_ships_the_int8_setting(saved, tmp_path):
    quantize_pipeline(str(saved), tmp_path / "int8")
    (tmp_path / "packages").mkdir()
    subprocess.run([sys.executable, "-m", "spacy", "package", tmp_path / "int8", tmp_path / "packages",
                    "--name", "int8_test", "--version", "0.0.1", "--build", "wheel"], check=True, capture_output=True)
    (wheel,) = (tmp_path / "packages").glob("*/dist/*.whl")
    zipfile.ZipFile(wheel).extractall(tmp_path / "installed")
    (model,) = (tmp_path / "installed").glob("en_int8_test/en_int8_test-0.0.1")
    shipped = spacy.load(model)
    assert shipped.get_pipe("lstm_tagger").quantize
    numpy.testing.assert_array_equal(probabilities(shipped), probabilities(spacy.load(saved, config=INT8)))


def test_int8_weights_follow_loaded_weights(saved, tmp_path):
    other = train_tutorial_tagger(steps=10)  # same sizes, other weights
    other.to_disk(tmp_path)
    int8_nlp = spacy.load(saved, config=INT8)
    before = probabilities(int8_nlp)  # makes the int8 copy of the first weights
    int8_nlp.get_pipe("lstm_tagger").from_bytes(other.get_pipe("lstm_tagger").to_bytes())
    after = probabilities(int8_nlp)
    assert not numpy.array_equal(before, after)
    numpy.testing.assert_array_equal(after, probabilities(spacy.load(tmp_path, config=INT8)))
