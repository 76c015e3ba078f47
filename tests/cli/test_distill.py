"""`python -m spacy lstm-tagger distill`: spacy train on teachers' probabilities, end to end."""
import subprocess
import sys

import pytest
import spacy
import srsly
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import fix_random_seed, load_config

from conftest import ROOT, V2_MODEL

SMALL = ["--components.lstm_tagger.model.hidden_width", "16", "--components.lstm_tagger.model.depth", "1",
         "--components.lstm_tagger.model.embed_width", "16"]


def teacher(path, seed):
    """A small lstm_tagger trained briefly on 200 EWT training Docs, saved at `path`."""
    fix_random_seed(seed)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": V2_MODEL})
    refs = list(DocBin().from_disk(ROOT / "corpus" / "train.spacy").get_docs(nlp.vocab))[:200]
    examples = [Example(Doc(nlp.vocab, words=[t.text for t in ref]), ref) for ref in refs]
    optimizer = nlp.initialize(lambda: examples)
    for start in range(0, 200, 20):
        nlp.update(examples[start : start + 20], sgd=optimizer)
    nlp.to_disk(path)
    return path


@pytest.mark.slow
def test_distill_trains_an_ordinary_pipeline_on_the_teachers_probabilities(tmp_path):
    teachers = [teacher(tmp_path / f"teacher{seed}", seed) for seed in (0, 1)]
    srsly.write_jsonl(tmp_path / "raw.jsonl", [{"text": "The cat sat on the mat."}, {"text": "Dogs bark at night."}])
    command = [sys.executable, "-m", "spacy", "lstm-tagger", "distill", ROOT / "configs" / "lstm_tagger.cfg",
               tmp_path / "student", "--raw-text", tmp_path / "raw.jsonl", "--paths.train", ROOT / "corpus" / "train.spacy",
               "--paths.dev", ROOT / "corpus" / "dev.spacy", "--corpora.train.limit", "200", "--corpora.dev.limit", "50",
               "--training.max_steps", "8", "--training.eval_frequency", "4", *SMALL]
    for path in teachers:
        command[6:6] = ["--teacher", path]
    result = subprocess.run(list(map(str, command)), cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "raw-0: tagging with the teachers" in result.stderr
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "student" / "teacher-cache").glob("*.npz")) == ["raw", "train"]
    distill_config = load_config(tmp_path / "student" / "distill.cfg")
    assert distill_config["corpora"]["train"]["@readers"] == "spacy_lstm_tagger.DistillationCorpus.v1"
    for saved in ("model-best", "model-last"):
        text = (tmp_path / "student" / saved / "config.cfg").read_text()
        assert "teacher" not in text and "spacy.Corpus.v1" in text
    nlp = spacy.load(tmp_path / "student" / "model-best")
    assert len([t.tag_ for t in nlp("The cat sat on the mat.") if t.tag_]) == 7
    evaluate = subprocess.run([sys.executable, "-m", "spacy", "evaluate", str(tmp_path / "student" / "model-best"),
                               str(ROOT / "corpus" / "dev.spacy"), "--gold-preproc"], capture_output=True, text=True)
    assert evaluate.returncode == 0 and "TAG" in evaluate.stdout
