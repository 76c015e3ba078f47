"""tag_corpus on a local Ray instance (2 CPUs, loopback only): the three input formats, the tags of
nlp.pipe, the errors files, the resume rule, Parquet output, and the command itself."""
import json
import os
import subprocess
import sys

import pytest

ray = pytest.importorskip("ray", reason="tag_corpus needs the ray extra: pip install -e '.[ray]'")

from conftest import ROOT  # noqa: E402
from spacy_lstm_tagger.tag_corpus import TagCorpusError, tag_corpus  # noqa: E402
from tag_corpus_helpers import TEXTS, check_every_record_once, read_output, start_local_ray, write_corpus  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_more_workers_than_the_local_cores_is_refused(corpus, tutorial_model_path, tmp_path):
    """Run first, before this module starts its Ray: the job starts a local instance itself."""
    assert not ray.is_initialized()
    workers = os.cpu_count() + 1
    with pytest.raises(TagCorpusError, match=rf"--workers {workers} needs {workers} CPUs, and this machine's Ray has \d+"):
        tag_corpus(str(tutorial_model_path), str(corpus[0]), str(tmp_path / "out"), workers=workers)
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def local_ray():
    start_local_ray(ray)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, write_corpus(folder)


@pytest.fixture(scope="module")
def pipe_tags(tutorial_nlp):
    """{text: its tags from nlp.pipe}, for every text of the corpus."""
    return {doc.text: [t.tag_ for t in doc] for doc in tutorial_nlp.pipe(TEXTS)}


@pytest.fixture(scope="module")
def first_run(local_ray, corpus, tutorial_model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "out"
    summary = tag_corpus(str(tutorial_model_path), str(corpus[0]), str(out), workers=2, batch_size=64)
    return out, summary


def test_three_formats_every_record_once_with_nlp_pipes_tags(first_run, corpus, pipe_tags):
    out, summary = first_run
    records, errors = read_output(out)
    check_every_record_once(records, errors, corpus[1])
    assert all(r["tags"] == pipe_tags[r["text"]] for r in records)
    assert all(len(r["tokens"]) == len(r["tags"]) for r in records)
    assert {r["_file"] for r in records} == {"a.jsonl", "b.txt", "sub/c.parquet"}
    jsonl = next(r for r in records if r["_file"] == "a.jsonl")
    assert list(jsonl) == ["_file", "_line", "id", "source", "text", "tokens", "tags"]  # fields kept
    assert "n" in next(r for r in records if r["_file"] == "sub/c.parquet")
    assert (summary.files, summary.records, summary.failed) == (3, len(records), 5)
    assert summary.tokens == sum(len(r["tokens"]) for r in records)
    assert json.loads((out / "summary.json").read_text())["records"] == len(records)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.errors.jsonl", "a.jsonl", "b.jsonl", "sub/c.errors.jsonl", "sub/c.jsonl", "summary.json", "tag_corpus.json"]


def test_errors_files_give_each_failed_record_and_its_reason(first_run):
    _, errors = read_output(first_run[0])
    reasons = {(e["_file"], e["_line"]): e["error"] for e in errors}
    assert reasons[("a.jsonl", 101)] == 'no "text" field'
    assert reasons[("a.jsonl", 102)].startswith("not valid JSON")
    assert reasons[("a.jsonl", 103)] == '"text" is an array, not a string'
    assert reasons[("a.jsonl", 104)].startswith("undecodable bytes, not UTF-8")
    assert reasons[("sub/c.parquet", 301)] == '"text" is null, not a string'
    assert next(e for e in errors if e["_line"] == 104)["excerpt"] == '{"text": "bad \ufffd byte"}'


def test_resume_tags_only_the_unfinished_files(first_run, corpus, tutorial_model_path, tmp_path):
    out, _ = first_run
    resumed = tmp_path / "out"
    ray_out = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for path, data in ray_out.items():
        (resumed / path).parent.mkdir(parents=True, exist_ok=True)
        (resumed / path).write_bytes(data)
    # As a run stopped while writing b.txt's output would leave it.
    (resumed / "b.jsonl").rename(resumed / "b.jsonl.partial")
    (resumed / "a.jsonl").write_text("finished before\n")  # so that a rerun of a.jsonl would show
    with pytest.raises(TagCorpusError, match="exists and is not empty: pass --resume"):
        tag_corpus(str(tutorial_model_path), str(corpus[0]), str(resumed))
    with pytest.raises(TagCorpusError, match="other settings"):
        tag_corpus(str(tutorial_model_path), str(corpus[0]), str(resumed), resume=True, probabilities=True)
    summary = tag_corpus(str(tutorial_model_path), str(corpus[0]), str(resumed), resume=True, workers=2)
    assert (summary.files, summary.finished_before, summary.failed) == (1, 2, 0)
    assert summary.records == 300
    assert (resumed / "b.jsonl").read_bytes() == ray_out[out.relative_to(out) / "b.jsonl"]
    assert (resumed / "a.jsonl").read_text() == "finished before\n"
    assert not list(resumed.rglob("*.partial"))


def test_parquet_output_with_probabilities(local_ray, corpus, tutorial_model_path, tmp_path):
    import spacy

    nlp = spacy.load(tutorial_model_path, config={"components": {"lstm_tagger": {"store_probabilities": True}}})
    out = tmp_path / "out"
    summary = tag_corpus(str(tutorial_model_path), str(corpus[0] / "b.txt"), str(out), workers=1,
                         output_format="parquet", probabilities=True)
    records, errors = read_output(out, "parquet")
    assert summary.records == len(records) == 300 and not errors
    expected = {doc.text: doc for doc in nlp.pipe(TEXTS[600:900])}
    for record in records:
        doc = expected[record["text"]]
        assert record["tags"] == [t.tag_ for t in doc]
        assert record["tag_probs"] == pytest.approx([t._.tag_prob for t in doc], abs=1e-6)


def test_the_command(corpus, tutorial_model_path, tmp_path):
    """`python -m spacy lstm-tagger tag-corpus`, starting and stopping its own local Ray."""
    command = [sys.executable, "-m", "spacy", "lstm-tagger", "tag-corpus", tutorial_model_path, corpus[0] / "b.txt",
               tmp_path / "out", "--workers", "2", "--batch-size", "50"]
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "files: 1 tagged, 0 finished before" in result.stdout
    assert "records: 300 tagged, 0 failed" in result.stdout
    assert "words/s" in result.stdout and "the first tagged batch after" in result.stdout
    records, _ = read_output(tmp_path / "out")
    assert [r["_line"] for r in records] == list(range(1, 301))  # in input order

    again = subprocess.run(list(map(str, command)), capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert again.returncode == 1
    assert "exists and is not empty: pass --resume" in again.stderr
