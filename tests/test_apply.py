"""`spacy apply` with our pipeline and 2 processes, on JSONL (a record a line) and plain text (a
Doc a file): the Docs it saves have the tags of nlp.pipe."""
import json
import os
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from conftest import corpus_texts

pytestmark = pytest.mark.slow


def apply(model, data, output):
    """Run `spacy apply` with 2 processes, one torch thread each (as the README says), and read
    back the Docs it saved."""
    command = [sys.executable, "-m", "spacy", "apply", str(model), str(data), str(output),
               "--n-process", "2", "--batch-size", "64"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    nlp = spacy.load(model)
    return list(DocBin().from_disk(output).get_docs(nlp.vocab))


def test_jsonl_with_two_processes(tutorial_model_path, tutorial_nlp, tmp_path):
    texts = corpus_texts(500, seed=1)
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"text": text, "id": i}) + "\n" for i, text in enumerate(texts)))
    docs = apply(tutorial_model_path, data, tmp_path / "out.spacy")
    assert [doc.text for doc in docs] == texts  # every record, in order
    assert [[t.tag_ for t in doc] for doc in docs] == [[t.tag_ for t in doc] for doc in tutorial_nlp.pipe(texts)]


def test_plain_text_files_with_two_processes(tutorial_model_path, tutorial_nlp, tmp_path):
    (tmp_path / "in").mkdir()
    texts = {f"{i}.txt": "\n".join(corpus_texts(20, seed=i)) for i in range(6)}
    for name, text in texts.items():
        (tmp_path / "in" / name).write_text(text)
    docs = apply(tutorial_model_path, tmp_path / "in", tmp_path / "out.spacy")
    assert sorted(doc.text for doc in docs) == sorted(texts.values())  # one Doc a file
    for doc in docs:
        assert [t.tag_ for t in doc] == [t.tag_ for t in tutorial_nlp(doc.text)]
        assert doc.has_annotation("TAG")
