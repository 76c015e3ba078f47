"""Faults in training data, saved models and the environment give clear errors, or are handled."""
import json
import os
import shutil
import subprocess
import sys
from io import BytesIO

import numpy
import pytest
import spacy
import srsly
import torch
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.training.initialize import init_nlp
from spacy.util import load_config

from conftest import ROOT, V2_MODEL, TUTORIAL_DATA, train_tutorial_tagger
from spacy_lstm_tagger.layers.shim import serialize_network
from spacy_lstm_tagger.pipeline.temperature import TEMPERATURE

TUTORIAL_CONFIG = ROOT / "configs" / "tutorial.cfg"
WORDS = "The dog ate the apple".split()


def tags(nlp, words=WORDS):
    return [t.tag_ for t in nlp(Doc(nlp.vocab, words=words))]


# Training data


def init_tutorial(**overrides):
    """What `spacy train configs/tutorial.cfg` does before its first step, with config overrides."""
    return init_nlp(load_config(TUTORIAL_CONFIG, overrides=overrides))


def docbin(path, docs, attrs=("ORTH", "TAG")):
    data = DocBin(attrs=list(attrs))
    for doc in docs:
        data.add(doc)
    data.to_disk(path)
    return path


def test_corpus_without_tags_is_named(tmp_path):
    vocab = spacy.blank("en").vocab
    corpus = docbin(tmp_path / "untagged.spacy", [Doc(vocab, words=words) for words, _ in TUTORIAL_DATA])
    with pytest.raises(ValueError, match="has no tags") as error:
        init_tutorial(**{"paths.train": str(corpus)})
    assert str(corpus) in str(error.value)


def test_empty_corpus_file_is_named(tmp_path):
    (tmp_path / "zero-bytes.spacy").write_bytes(b"")
    for corpus, problem in (
        (docbin(tmp_path / "no-docs.spacy", []), "is empty"),
        (tmp_path / "zero-bytes.spacy", "cannot read"),
    ):
        with pytest.raises(ValueError, match=problem) as error:
            init_tutorial(**{"paths.train": str(corpus)})
        assert str(corpus) in str(error.value)


def test_missing_corpus_path_is_named(tmp_path):
    corpus = tmp_path / "nowhere.spacy"
    with pytest.raises(FileNotFoundError, match="No such file") as error:
        init_tutorial(**{"paths.train": str(corpus)})
    assert str(corpus) in str(error.value)


def test_untagged_tokens_are_left_out_of_the_loss():
    nlp = train_tutorial_tagger(steps=0)
    tagger = nlp.get_pipe("lstm_tagger")
    words, gold = TUTORIAL_DATA[0]
    partial = Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=gold[:2] + [""] * 3))
    scores = tagger.model.predict([partial.predicted])
    _, d_scores = tagger.get_loss([partial], scores)
    assert numpy.abs(d_scores[0][:2]).sum() > 0
    assert not d_scores[0][2:].any()


def test_dev_label_unseen_in_training_is_scored(tutorial_nlp):
    words = "The dog ate the red apple".split()
    example = Example(Doc(tutorial_nlp.vocab, words=words), Doc(tutorial_nlp.vocab, words=words, tags="DET NN V DET JJ NN".split()))
    scores = tutorial_nlp.evaluate([example])
    assert scores["tag_acc"] == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    "setting, value, problem",
    [
        ("hidden_width", 0, "model sizes must be positive integers, got {'hidden_width': 0}"),
        ("embed_width", -4, "model sizes must be positive integers, got {'embed_width': -4}"),
        ("depth", 0, "model sizes must be positive integers, got {'depth': 0}"),
        ("min_freq", 0, "min_freq must be a positive integer, got 0"),
        ("prefix_lengths", [0], "affix lengths must be positive integers, got [0,"),
        ("feature_dropout", 1.0, "feature_dropout must be in [0, 1), got 1.0"),
            ("new_value_rows", 0, "new_value_rows must be a positive integer, got 0"),
        ("char_width", -1, "char_width must be a non-negative integer, got -1"),
        ("char_length", 0, "model sizes must be positive integers, got {'char_length': 0}"),
    ],
)
def test_invalid_model_settings_are_refused_at_config_time(setting, value, problem):
    with pytest.raises(ValueError) as error:
        init_tutorial(**{f"components.lstm_tagger.model.{setting}": value})
    assert problem in str(error.value)


def test_spacy_train_reports_an_invalid_width(tmp_path):
    args = [sys.executable, "-m", "spacy", "train", TUTORIAL_CONFIG, "--output", tmp_path]
    result = subprocess.run([*map(str, args), "--components.lstm_tagger.model.hidden_width", "0"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "model sizes must be positive integers, got {'hidden_width': 0}" in result.stderr
    assert not (tmp_path / "model-last").exists()


# Saved models


@pytest.fixture(scope="module")
def saved(tutorial_nlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "pipeline"
    tutorial_nlp.to_disk(path)
    return path


@pytest.fixture
def pipeline_copy(saved, tmp_path):
    """A fresh copy of the saved pipeline, to damage."""
    return shutil.copytree(saved, tmp_path / "pipeline")


def damage_file(path, how):
    data = path.read_bytes()
    if how == "truncate":
        data = data[: len(data) // 2]
    else:
        middle = len(data) // 2
        data = data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]
    path.write_bytes(data)


def test_saved_pipeline_loads_and_tags(tutorial_nlp, saved):
    assert (saved / "lstm_tagger" / "model.sha256").is_file()
    assert tags(spacy.load(saved)) == tags(tutorial_nlp)


@pytest.mark.parametrize("how", ["truncate", "corrupt"])
def test_damaged_weights_file_is_named(pipeline_copy, how):
    model = pipeline_copy / "lstm_tagger" / "model"
    damage_file(model, how)
    with pytest.raises(ValueError, match="is damaged") as error:
        spacy.load(pipeline_copy)
    assert str(model) in str(error.value)


def test_damaged_weights_without_a_checksum_are_named(pipeline_copy):
    """A model saved before checksums existed is still refused, with the file named."""
    model = pipeline_copy / "lstm_tagger" / "model"
    (pipeline_copy / "lstm_tagger" / "model.sha256").unlink()
    damage_file(model, "truncate")
    with pytest.raises(ValueError, match="it is damaged") as error:
        spacy.load(pipeline_copy)
    assert str(model) in str(error.value)


@pytest.mark.parametrize("missing", ["", "model", "cfg"])
def test_missing_component_folder_or_file_is_named(pipeline_copy, missing):
    path = pipeline_copy / "lstm_tagger" / missing
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    with pytest.raises(FileNotFoundError, match="is missing") as error:
        spacy.load(pipeline_copy)
    assert str(path) in str(error.value)


def test_damaged_cfg_is_named(pipeline_copy):
    cfg = pipeline_copy / "lstm_tagger" / "cfg"
    cfg.write_text('{"labels": ["DET", "NN"')
    with pytest.raises(ValueError, match="is damaged") as error:
        spacy.load(pipeline_copy)
    assert str(cfg) in str(error.value)


def test_labels_changed_by_hand_are_refused(pipeline_copy):
    cfg = pipeline_copy / "lstm_tagger" / "cfg"
    settings = json.loads(cfg.read_text())
    cfg.write_text(json.dumps({**settings, "labels": settings["labels"] + ["JJ"]}))
    with pytest.raises(ValueError, match="weights score 3 tags, but .* lists 4 labels") as error:
        spacy.load(pipeline_copy)
    assert str(cfg) in str(error.value)


@pytest.mark.parametrize(
    "old, new",
    [
        ("hidden_width = 16", "hidden_width = 32"),
        ("embed_width = 16", "embed_width = 8"),
        ("depth = 1", "depth = 2"),
        ("bidirectional = true", "bidirectional = false"),
        ("suffix_lengths = [", "suffix_lengths = [5,"),
        ("char_width = 8", "char_width = 0"),
    ],
)
def test_config_changed_by_hand_is_refused(pipeline_copy, old, new):
    config = pipeline_copy / "config.cfg"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, new))
    with pytest.raises(ValueError, match="do not fit the network the config describes|do not belong") as error:
        spacy.load(pipeline_copy)
    assert str(pipeline_copy / "lstm_tagger" / "model") in str(error.value)
    assert "size mismatch" not in str(error.value)


def test_failed_load_leaves_the_component_as_it_was(saved):
    """Weights that do not fit are refused, and the component keeps its own weights and labels."""
    nlp = train_tutorial_tagger(steps=0, hidden_width=8)
    tagger = nlp.get_pipe("lstm_tagger")
    before, labels = tagger.model.predict([Doc(nlp.vocab, words=WORDS)])[0], tagger.labels
    with pytest.raises(ValueError, match="do not fit"):
        tagger.from_disk(saved / "lstm_tagger", exclude=["vocab"])
    assert tagger.labels == labels
    numpy.testing.assert_array_equal(tagger.model.predict([Doc(nlp.vocab, words=WORDS)])[0], before)


def test_damaged_bytes_are_refused(tutorial_nlp):
    data = tutorial_nlp.get_pipe("lstm_tagger").to_bytes()
    message = srsly.msgpack_loads(data)
    message["cfg"] = srsly.json_dumps({**srsly.json_loads(message["cfg"]), "labels": ["DET", "NN"]})
    for damaged, problem in ((data[: len(data) // 2], "damaged"), (srsly.msgpack_dumps(message), "lists 2 labels")):
        tagger = spacy.blank("en").add_pipe("lstm_tagger", config={"model": V2_MODEL})
        with pytest.raises(ValueError, match=problem):
            tagger.from_bytes(damaged)
        assert tagger.labels == ()


def test_weights_saved_on_a_gpu_load_on_a_cpu(tutorial_nlp, tmp_path, monkeypatch):
    """Weights whose storages say cuda:0, as a GPU-trained model's do, load and tag on the CPU."""
    on_gpu = [(0, lambda storage: "cuda:0", lambda storage, location: None)]
    monkeypatch.setattr(torch.serialization, "_package_registry", on_gpu + torch.serialization._package_registry)
    tutorial_nlp.to_disk(tmp_path)
    network_bytes = serialize_network(tutorial_nlp.get_pipe("lstm_tagger").model.get_ref("network").shims[0].module)
    monkeypatch.undo()
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(BytesIO(network_bytes), weights_only=True)
    assert tags(spacy.load(tmp_path)) == tags(tutorial_nlp)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_model_trained_on_gpu_loads_on_a_cpu_only_machine(tmp_path):
    pytest.importorskip("cupy")
    train = (
        "import sys, spacy; spacy.require_gpu(); sys.path.insert(0, 'tests'); "
        "from conftest import train_tutorial_tagger; train_tutorial_tagger().to_disk(sys.argv[1])"
    )
    load = "import sys, spacy; print(' '.join(t.tag_ for t in spacy.load(sys.argv[1])('The dog ate the apple')))"
    subprocess.run([sys.executable, "-c", train, str(tmp_path)], cwd=ROOT, check=True)
    cpu_only = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", load, str(tmp_path)], env=cpu_only, capture_output=True, text=True)
    assert result.stdout.strip() == "DET NN V DET NN", result.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_tags_as_the_cpu_does_long_docs_included(tutorial_nlp, tmp_path):
    pytest.importorskip("cupy")
    tutorial_nlp.to_disk(tmp_path)
    texts = ["The dog ate the apple", "Everybody read that book", "The dog ate the apple . " * 800]
    tag = (
        "import json, sys, spacy; spacy.require_gpu(); nlp = spacy.load(sys.argv[1]); "
        "print(json.dumps([[t.tag_ for t in doc] for doc in nlp.pipe(json.loads(sys.argv[2]))]))"
    )
    result = subprocess.run([sys.executable, "-c", tag, str(tmp_path), json.dumps(texts)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[t.tag_ for t in doc] for doc in tutorial_nlp.pipe(texts)]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_calibrated_probabilities_are_the_cpus(tutorial_nlp, tmp_path):
    """With a temperature, applied on the GPU: NumPy float64 arrays, the CPU's values."""
    pytest.importorskip("cupy")
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    texts = ["The dog ate the apple", "", "Everybody read that book"]
    tagger.cfg[TEMPERATURE] = 1.7
    try:
        tutorial_nlp.to_disk(tmp_path)
        on_cpu = tagger.predict([tutorial_nlp.make_doc(text) for text in texts])
    finally:
        del tagger.cfg[TEMPERATURE]
    predict = (
        "import json, sys, spacy; spacy.require_gpu(); nlp = spacy.load(sys.argv[1]); "
        "scores = nlp.get_pipe('lstm_tagger').predict([nlp.make_doc(t) for t in json.loads(sys.argv[2])]); "
        "print(json.dumps([[type(s).__name__, str(s.dtype), s.tolist()] for s in scores]))"
    )
    result = subprocess.run([sys.executable, "-c", predict, str(tmp_path), json.dumps(texts)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    on_gpu = json.loads(result.stdout)
    assert [(kind, dtype) for kind, dtype, _ in on_gpu] == [("ndarray", "float64")] * 3
    for (_, _, gpu_scores), cpu_scores in zip(on_gpu, on_cpu):
        numpy.testing.assert_allclose(numpy.asarray(gpu_scores).reshape(cpu_scores.shape), cpu_scores, rtol=1e-4, atol=1e-7)
