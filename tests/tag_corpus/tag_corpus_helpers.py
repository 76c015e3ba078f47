"""What the tests of tag_corpus on Ray share: a local Ray instance, a corpus in the three input
formats, and reading back an output folder."""
import json
from pathlib import Path

import pyarrow
import pyarrow.parquet

from conftest import corpus_texts

TEXTS = corpus_texts(1200)
BAD_JSONL = [b'{"id": "no text"}', b"{not json", b'{"text": ["a list"]}', b'{"text": "bad \xff byte"}']


def start_local_ray(ray, **settings) -> None:
    """Ray on 2 CPUs, on the loopback address only."""
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
             object_store_memory=256 * 2**20, **settings)


def write_corpus(folder: Path) -> dict:
    """a.jsonl, b.txt and sub/c.parquet in `folder`, with records that fail among them.

    RETURNS (dict): {(file, line): text, or None for a record that fails}, for every input record.
    """
    (folder / "sub").mkdir(parents=True)
    expected = {}
    jsonl = [json.dumps({"id": i, "text": text, "source": "web"}).encode() for i, text in enumerate(TEXTS[:600])]
    jsonl[100:100] = BAD_JSONL
    (folder / "a.jsonl").write_bytes(b"\n".join(jsonl) + b"\n")
    texts = iter(TEXTS[:600])
    for line, raw in enumerate(jsonl, 1):
        expected["a.jsonl", line] = None if raw in BAD_JSONL else next(texts)
    (folder / "b.txt").write_text("\n".join(TEXTS[600:900]) + "\n")
    expected.update({("b.txt", line): text for line, text in enumerate(TEXTS[600:900], 1)})
    parquet_texts = TEXTS[900:] + [None]
    pyarrow.parquet.write_table(
        pyarrow.table({"text": parquet_texts, "n": list(range(len(parquet_texts)))}), folder / "sub" / "c.parquet",
        row_group_size=100,
    )
    expected.update({("sub/c.parquet", row): text for row, text in enumerate(parquet_texts, 1)})
    return expected


def read_output(folder: Path, output_format: str = "jsonl"):
    """The output records and the errors of an output folder, as lists of dicts."""
    records, errors = [], []
    for path in sorted(folder.rglob("*")):
        if path.name.endswith(".errors.jsonl"):
            errors += [json.loads(line) for line in path.read_text().splitlines()]
        elif path.suffix == f".{output_format}":
            if output_format == "parquet":
                records += pyarrow.parquet.read_table(path).to_pylist()
            else:
                records += [json.loads(line) for line in path.read_text().splitlines()]
    return records, errors


def check_every_record_once(records, errors, expected) -> None:
    """Each input record is in the output or the errors, once; the output's texts are the input's."""
    keys = [(r["_file"], r["_line"]) for r in records] + [(e["_file"], e["_line"]) for e in errors]
    assert len(keys) == len(set(keys)), "a record came twice"
    assert set(keys) == set(expected)
    assert {(r["_file"], r["_line"]): r["text"] for r in records} == {
        key: text for key, text in expected.items() if text is not None}
    assert all(expected[e["_file"], e["_line"]] is None for e in errors)
