"""tag_corpus without Ray: listing INPUT, reading and checking records, OUTPUT_DIR's rules, the
accounting of records, and the tagging class run in this process."""
import json
import subprocess
import sys

import pytest
import torch

pyarrow = pytest.importorskip("pyarrow", reason="tag_corpus needs the ray extra: pip install -e '.[ray]'")
import pyarrow.parquet  # noqa: E402

from conftest import ROOT, corpus_texts  # noqa: E402
from spacy_lstm_tagger.tag_corpus.inputs import InputFile, TagCorpusError, list_inputs, read_records  # noqa: E402
from spacy_lstm_tagger.tag_corpus.outputs import Collector, OutputDir, OutputDirError, output_names  # noqa: E402
from spacy_lstm_tagger.tag_corpus.tagging import TagRecords  # noqa: E402

SETTINGS = {"model": "m", "probabilities": False, "output_format": "jsonl", "max_chars": 100}


def records(path, fmt, max_chars=100):
    rows = list(read_records(InputFile(str(path), path.name, fmt), max_chars))
    assert rows[-1]["end"] and rows[-1]["line"] == len(rows) - 1
    assert [row["line"] for row in rows[:-1]] == list(range(1, len(rows)))
    return rows[:-1]


def test_list_inputs_file_folder_and_glob(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.jsonl", "b.txt", "sub/c.parquet", "sub/d", ".x.jsonl", ".hidden/e.txt"):
        (tmp_path / name).write_text("")
    folder = list_inputs(str(tmp_path))
    assert [(f.name, f.format) for f in folder] == [
        ("a.jsonl", "jsonl"), ("b.txt", "text"), ("sub/c.parquet", "parquet"), ("sub/d", "text")]
    assert [f.name for f in list_inputs(str(tmp_path / "**" / "*.parquet"))] == ["sub/c.parquet"]
    assert [f.name for f in list_inputs(str(tmp_path / "*.*"))] == ["a.jsonl", "b.txt"]
    assert [f.name for f in list_inputs(str(tmp_path), exclude=str(tmp_path / "sub"))] == ["a.jsonl", "b.txt"]
    (single,) = list_inputs(str(tmp_path / "b.txt"), "jsonl")
    assert (single.name, single.format, single.path) == ("b.txt", "jsonl", str(tmp_path / "b.txt"))
    with pytest.raises(TagCorpusError, match="no file, folder or glob"):
        list_inputs(str(tmp_path / "missing"))
    with pytest.raises(TagCorpusError, match="names no files"):
        list_inputs(str(tmp_path / "*.csv"))


def test_jsonl_records_and_every_reason(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 1, "text": "A dog", "tags": "old"}).encode(),
        b'{"text": "caf\xc3\xa9"}',
        b'{"id": 2, "text": "bad \xff byte"}',
        b"",
        b"{not json",
        b'["text"]',
        b'{"id": 3}',
        b'{"text": 5}',
        b'{"text": null}',
        json.dumps({"text": "x" * 101}).encode(),
        b'{"text": "\\ud800"}',
        b'{"text": ""}\r',
    ]
    path.write_bytes(b"\n".join(lines))
    rows = records(path, "jsonl")
    assert [(row["text"], row["fields"]) for row in rows if row["error"] is None] == [
        ("A dog", '{"id": 1}'), ("caf\u00e9", "{}"), ("", "{}")]
    errors = {row["line"]: row["error"] for row in rows if row["error"] is not None}
    assert errors[3].startswith("undecodable bytes, not UTF-8")
    assert errors[4] == "a blank line, not a JSON object"
    assert errors[5].startswith("not valid JSON")
    assert errors[6] == "an array, not a JSON object"
    assert errors[7] == 'no "text" field'
    assert errors[8] == '"text" is a number, not a string'
    assert errors[9] == '"text" is null, not a string'
    assert errors[10] == "the text has 101 characters, over the limit of 100 (--max-chars)"
    assert errors[11] == "the text is not valid Unicode (an unpaired surrogate)"
    assert rows[2]["excerpt"] == '{"id": 2, "text": "bad \ufffd byte"}'
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 11]


def test_text_records_keep_empty_lines_and_number_them(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(b"one line\r\n\n\xfe\nlast, no newline")
    rows = records(path, "text")
    assert [(row["line"], row["text"]) for row in rows] == [(1, "one line"), (2, ""), (3, None), (4, "last, no newline")]
    assert rows[2]["error"].startswith("undecodable bytes")


def test_parquet_records_and_a_file_without_text(tmp_path):
    table = pyarrow.table({"text": ["A dog", None, "x" * 200], "id": [1, 2, 3]})
    pyarrow.parquet.write_table(table, tmp_path / "in.parquet")
    rows = records(tmp_path / "in.parquet", "parquet")
    assert (rows[0]["text"], rows[0]["fields"]) == ("A dog", '{"id": 1}')
    assert rows[1]["error"] == '"text" is null, not a string' and rows[2]["error"].startswith("the text has 200")
    pyarrow.parquet.write_table(pyarrow.table({"body": ["A dog"]}), tmp_path / "body.parquet")
    assert [row["error"] for row in records(tmp_path / "body.parquet", "parquet")] == ['no "text" column']


def test_an_unreadable_file_is_one_error_row(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    (row,) = records(path, "parquet")
    assert row["line"] == 1 and row["error"].startswith("cannot read the file from this record on: not a readable Parquet")


def test_output_names_and_clashes():
    files = [InputFile("p", "a.txt", "text"), InputFile("q", "sub/b.jsonl", "jsonl")]
    assert output_names(files, "jsonl") == {"a.txt": ("a.jsonl", "a.errors.jsonl"),
                                            "sub/b.jsonl": ("sub/b.jsonl", "sub/b.errors.jsonl")}
    with pytest.raises(OutputDirError, match=r"share the output file\(s\) \['a.errors.jsonl', 'a.jsonl'\]"):
        output_names([*files, InputFile("r", "a.jsonl", "jsonl")], "jsonl")


def test_output_dir_refuses_an_existing_folder_and_resumes_only_its_own_run(tmp_path):
    names = {"a.txt": ("a.jsonl", "a.errors.jsonl"), "b.txt": ("b.jsonl", "b.errors.jsonl")}
    out = tmp_path / "out"
    OutputDir(out, SETTINGS, names)
    (out / "a.jsonl").write_text("{}\n")
    (out / "b.errors.jsonl").write_text("{}\n")
    (out / "b.jsonl.partial").write_text("{}\n")
    with pytest.raises(OutputDirError, match="exists and is not empty: pass --resume"):
        OutputDir(out, SETTINGS, names)
    with pytest.raises(OutputDirError, match=r"other settings \(model: 'm' then, 'other' now\)"):
        OutputDir(out, {**SETTINGS, "model": "other"}, names, resume=True)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x").write_text("")
    with pytest.raises(OutputDirError, match="not a tag_corpus output folder"):
        OutputDir(tmp_path / "foreign", SETTINGS, names, resume=True)
    resumed = OutputDir(out, SETTINGS, names, resume=True)
    assert resumed.finished("a.txt") and not resumed.finished("b.txt")
    # b is tagged again whole: neither its partial output nor its errors of the last run stay.
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "tag_corpus.json"]
    OutputDir(tmp_path / "empty", SETTINGS, names)  # a new folder
    (tmp_path / "made").mkdir()
    OutputDir(tmp_path / "made", SETTINGS, names)  # an empty one


def tagged_row(name, line, output="{}", error=None, end=False):
    return {"file": name, "line": line, "end": end, "error": error, "excerpt": None, "output": output, "tokens": 2}


def test_collector_writes_whole_files_and_refuses_lost_or_repeated_records(tmp_path):
    names = {"a": ("a.jsonl", "a.errors.jsonl"), "b": ("b.jsonl", "b.errors.jsonl")}
    out = OutputDir(tmp_path / "out", SETTINGS, names)
    collector = Collector(out)
    collector.add([tagged_row("a", 1, '{"n": 1}'), tagged_row("a", 2, None, error="bad")])
    assert not (tmp_path / "out" / "a.jsonl").exists()  # not finished yet
    collector.add([tagged_row("a", 2, end=True), tagged_row("b", 1, '{"n": 2}')])
    assert (tmp_path / "out" / "a.jsonl").read_text() == '{"n": 1}\n'
    assert json.loads((tmp_path / "out" / "a.errors.jsonl").read_text())["error"] == "bad"
    with pytest.raises(RuntimeError, match="the records of b stopped before its end"):
        collector.close()
    assert (collector.records, collector.failed, collector.tokens) == (2, 1, 4)

    for rows, message in [
        ([tagged_row("a", 1), tagged_row("a", 1)], "record 1 of a came where record 2 was due"),
        ([tagged_row("a", 2)], "record 2 of a came where record 1 was due"),
        ([tagged_row("a", 1), tagged_row("a", 2, end=True)], "a has 2 records, but 1 came"),
        ([tagged_row("a", 1), tagged_row("b", 1)], "the records of a stopped before its end"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            Collector(OutputDir(tmp_path / "fresh", SETTINGS, names, resume=True)).add(rows)


@pytest.fixture
def tagger_in_process(tutorial_model_path):
    threads = torch.get_num_threads()
    yield lambda **settings: TagRecords(str(tutorial_model_path), **settings)
    torch.set_num_threads(threads)  # TagRecords sets one thread, as each Ray worker has


def batch(texts, name="in.jsonl"):
    rows = [{"file": name, "line": i, "text": text, "fields": '{"id": %d}' % i, "error": None,
             "excerpt": None, "end": False} for i, text in enumerate(texts, 1)]
    rows.append({"file": name, "line": len(texts), "text": None, "fields": None, "error": None, "excerpt": None, "end": True})
    return pyarrow.Table.from_pylist(rows)


def test_tagging_class_gives_nlp_pipes_tags_and_probabilities(tagger_in_process, tutorial_nlp):
    texts = corpus_texts(50)
    rows = tagger_in_process(probabilities=True)(batch(texts)).to_pylist()
    assert rows[-1]["end"] and rows[-1]["output"] is None
    outputs = [json.loads(row["output"]) for row in rows[:-1]]
    expected = list(tutorial_nlp.pipe(texts))
    assert [out["tags"] for out in outputs] == [[t.tag_ for t in doc] for doc in expected]
    assert [out["tokens"] for out in outputs] == [[t.text for t in doc] for doc in expected]
    assert [row["tokens"] for row in rows[:-1]] == [len(doc) for doc in expected]
    assert list(outputs[0]) == ["_file", "_line", "id", "text", "tokens", "tags", "tag_probs"]
    assert (outputs[4]["_file"], outputs[4]["_line"], outputs[4]["id"]) == ("in.jsonl", 5, 5)
    assert all(0.0 < p <= 1.0 for out in outputs for p in out["tag_probs"])
    assert "tag_probs" not in json.loads(tagger_in_process()(batch(texts[:1])).to_pylist()[0]["output"])


def test_a_text_the_pipeline_cannot_tag_is_an_error_and_the_rest_are_tagged(tagger_in_process):
    tagger = tagger_in_process(max_chars=10)
    tagger.nlp.max_length = 10  # spaCy refuses longer texts (E088): as if a component failed on it
    rows = tagger(batch(["The dog", "x" * 11, "ate"])).to_pylist()
    assert [json.loads(row["output"])["tokens"] for row in (rows[0], rows[2])] == [["The", "dog"], ["ate"]]
    assert rows[1]["output"] is None and rows[1]["error"].startswith("tagging failed: ValueError: [E088]")


def test_command_without_ray_names_the_extra(tmp_path):
    """With ray not importable, the command says what to install."""
    argv = ["spacy", "lstm-tagger", "tag-corpus", "model", str(tmp_path), str(tmp_path / "out")]
    code = (f"import runpy, sys; sys.modules['ray'] = None; sys.argv = {argv!r}; "
            "runpy.run_module('spacy', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert 'tag_corpus needs Ray Data, which is not installed' in result.stderr
    assert 'pip install "spacy-lstm-tagger[ray]"' in result.stderr
