"""`spacy pretrain` trains the v3 tagger's encoder on raw text, and `spacy train` starts from it
through `[initialize] init_tok2vec`: with our objective and with spaCy's characters objective."""
import subprocess
import sys

import numpy
import pytest
import spacy
import srsly
from spacy.tokens import Doc
from spacy.training.initialize import init_nlp
from spacy.training.pretrain import pretrain
from spacy.util import load_config

from conftest import ROOT

CONFIG = ROOT / "configs" / "lstm_tagger_pretrain.cfg"
TUTORIAL = str(ROOT / "corpus" / "tutorial" / "tutorial.spacy")
SMALL = {f"components.lstm_tagger.model.encoder.{name}": value
         for name, value in (("embed_width", 8), ("hidden_width", 8), ("char_width", 8), ("min_freq", 1))}
CHARACTERS = {"@architectures": "spacy.PretrainCharacters.v1", "maxout_pieces": 2, "hidden_size": 16, "n_characters": 2}


@pytest.fixture(scope="module")
def raw_text(tmp_path_factory):
    path = tmp_path_factory.mktemp("raw") / "raw.jsonl"
    rng = numpy.random.default_rng(0)
    words = "the a dog cat zyzzyva ate read that book apple quickly .".split()
    srsly.write_jsonl(path, [{"text": " ".join(rng.choice(words, size=8))} for _ in range(200)])
    return str(path)


def config(raw_text, **overrides):
    return load_config(CONFIG, overrides={"paths.raw_text": raw_text, "paths.train": TUTORIAL, "paths.dev": TUTORIAL,
                                          "pretraining.max_epochs": 1, **SMALL, **overrides}, interpolate=False)


@pytest.mark.parametrize("objective", ["ours", "characters"])
def test_training_starts_from_the_pretrained_encoder(raw_text, tmp_path, objective):
    pretraining = config(raw_text)
    if objective == "characters":
        pretraining["pretraining"]["objective"] = CHARACTERS
    pretrain(pretraining.interpolate(), tmp_path, silent=True)
    weights = tmp_path / "model-last.bin"

    nlp = init_nlp(config(raw_text, **{"paths.init_tok2vec": str(weights)}))
    encoder = nlp.get_pipe("lstm_tagger").model.get_ref("encoder")
    assert nlp.vocab.strings["zyzzyva"] in encoder.get_ref("features").attrs["tables"][0]  # the raw text's word
    alone = spacy.blank("en")
    alone.add_pipe("lstm_tagger", config={"model": nlp.config.interpolate()["components"]["lstm_tagger"]["model"]})
    pretrained = alone.get_pipe("lstm_tagger").model.get_ref("encoder").from_bytes(weights.read_bytes())
    docs = [Doc(nlp.vocab, words="the zyzzyva read that book".split())]
    numpy.testing.assert_array_equal(encoder.predict(docs)[0], pretrained.predict(docs)[0])
    # ... and the tagger then trains and tags.
    from spacy.training import Corpus

    examples = list(Corpus(TUTORIAL)(nlp))
    for _ in range(3):
        nlp.update(examples)
    assert all(token.tag_ for token in nlp("the zyzzyva read that book"))


@pytest.mark.slow
def test_the_readmes_commands_pretrain_then_train(raw_text, tmp_path):
    """The shipped config, as the README runs it: `spacy pretrain`, then `spacy train
    --paths.init_tok2vec` (briefly, on a few training Docs)."""
    run = [sys.executable, "-m", "spacy"]
    subprocess.run([*run, "pretrain", str(CONFIG), str(tmp_path / "pretrain"), "--paths.raw_text", raw_text,
                    "--pretraining.max_epochs", "1"], check=True, cwd=ROOT)
    subprocess.run([*run, "train", str(CONFIG), "--output", str(tmp_path / "training"),
                    "--paths.init_tok2vec", str(tmp_path / "pretrain" / "model-last.bin"),
                    "--corpora.train.limit", "200", "--corpora.dev.limit", "100", "--training.max_steps", "20",
                    "--training.eval_frequency", "10"], check=True, cwd=ROOT)
    nlp = spacy.load(tmp_path / "training" / "model-last")
    assert all(token.tag_ for token in nlp("The dog read that book."))
