"""The input of tag_corpus: which files INPUT names, and each file's records, checked one by one.

No Ray here: a file's rows are plain dicts, numbered from 1 in file order, then an end row."""
import glob
import json
import os
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

DEFAULT_MAX_CHARS = 1_000_000
"""The longest text a record may have, in characters: spaCy's own `nlp.max_length`."""
EXCERPT_CHARS = 200
OUTPUT_FIELDS = ("_file", "_line", "text", "tokens", "tags", "tag_probs")
"""Fields the output sets: an input field of one of these names is replaced."""
SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
FORMATS = ("jsonl", "text", "parquet")


class TagCorpusError(Exception):
    """What is wrong with the command's arguments, INPUT or OUTPUT_DIR, in words."""


@dataclass(frozen=True)
class InputFile:
    """One input file: where to read it, its name (its path below INPUT, the key every record of
    it carries in `_file`), and its format."""

    path: str
    name: str
    format: str


def list_inputs(spec: str, input_format: str = "auto", exclude: Optional[str] = None) -> List[InputFile]:
    """The files INPUT names, sorted by name.

    spec (str): A file; a folder (every file in it and below it, hidden ones aside); or a glob
        (`data/*.jsonl`, `data/**/*.txt`).
    input_format (str): "jsonl", "text", "parquet", or "auto": by suffix (.jsonl, .ndjson and .json
        are JSONL, .parquet is Parquet, anything else plain text).
    exclude (Optional[str]): A folder whose files are left out (OUTPUT_DIR, if it is in INPUT).
    """
    if input_format != "auto" and input_format not in FORMATS:
        raise TagCorpusError(f"tag_corpus: unknown input format {input_format!r}; use auto or one of {FORMATS}")
    if glob.has_magic(spec):
        root = _glob_root(spec)
        paths = [path for path in glob.glob(spec, recursive=True) if os.path.isfile(path)]
    elif os.path.isdir(spec):
        root = spec
        paths = [
            os.path.join(folder, name)
            for folder, folders, names in os.walk(spec)
            for name in names
            if not name.startswith(".") and not _is_hidden(os.path.relpath(folder, spec))
        ]
    elif os.path.isfile(spec):
        root, paths = os.path.dirname(spec), [spec]
    else:
        raise TagCorpusError(f"tag_corpus: INPUT {spec} is no file, folder or glob that exists")
    if exclude is not None:
        excluded = os.path.realpath(exclude)
        paths = [path for path in paths if os.path.commonpath([os.path.realpath(path), excluded]) != excluded]
    if not paths:
        raise TagCorpusError(f"tag_corpus: INPUT {spec} names no files")
    files = []
    for path in paths:
        name = os.path.relpath(path, root or ".")
        suffix = os.path.splitext(path)[1].lower()
        files.append(InputFile(path, name, SUFFIX_FORMATS.get(suffix, "text") if input_format == "auto" else input_format))
    return sorted(files, key=lambda file: file.name)


def _glob_root(spec: str) -> str:
    """The folder a glob's names are relative to: its leading parts that hold no wildcard."""
    parts = spec.split(os.sep)
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return os.sep.join(fixed) or ("/" if spec.startswith(os.sep) else "")


def _is_hidden(relative_folder: str) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in relative_folder.split(os.sep))


def read_records(file: InputFile, max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[dict]:
    """Every record of a file as a row, numbered from 1 in file order, then an end row.

    A row is {"file", "line", "text", "fields", "error", "excerpt", "end"}: `fields` is the
    record's other fields as a JSON object (JSONL, Parquet) or None (text); `error` is None, or why
    the record cannot be tagged, with the start of the line in `excerpt`. A file that cannot be
    read to its end gets one error row for the rest. The end row has `end` True and, as `line`,
    the number of rows before it.
    """
    line = 0
    reader = {"jsonl": _jsonl_records, "text": _text_records, "parquet": _parquet_records}[file.format]
    try:
        for line, (text, fields, error, excerpt) in enumerate(reader(file.path, max_chars), 1):
            yield _row(file.name, line, text=text, fields=fields, error=error, excerpt=excerpt)
    except OSError as exc:
        line += 1
        yield _row(file.name, line, error=f"cannot read the file from this record on: {exc}")
    yield _row(file.name, line, end=True)


def _row(name, line, *, text=None, fields=None, error=None, excerpt=None, end=False) -> dict:
    if error is not None:
        text = fields = None
    return {"file": name, "line": line, "text": text, "fields": fields, "error": error, "excerpt": excerpt, "end": end}


Record = Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]
"""(text, other fields as JSON, error, excerpt) of one record."""


def _jsonl_records(path: str, max_chars: int) -> Iterator[Record]:
    """The records of a JSONL file: one JSON object a line, with a string `text`."""
    with open(path, "rb") as lines:
        for raw in lines:
            line, error = _decode(raw)
            if error is None and not line.strip():
                error = "a blank line, not a JSON object"
            if error is None:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    error = f"not valid JSON ({exc})"
            if error is None and not isinstance(record, dict):
                error = f"{_json_type(record)}, not a JSON object"
            if error is None and "text" not in record:
                error = 'no "text" field'
            if error is not None:
                yield None, None, error, _excerpt(raw)
                continue
            text = record["text"]
            fields = {key: value for key, value in record.items() if key not in OUTPUT_FIELDS}
            yield _checked(text, json.dumps(fields), max_chars)


def _text_records(path: str, max_chars: int) -> Iterator[Record]:
    """The records of a plain-text file: each line is a text (an empty one too)."""
    with open(path, "rb") as lines:
        for raw in lines:
            line, error = _decode(raw)
            yield (None, None, error, _excerpt(raw)) if error else _checked(line, None, max_chars)


def _parquet_records(path: str, max_chars: int) -> Iterator[Record]:
    """The rows of a Parquet file, read a batch at a time: the `text` column is the text."""
    import pyarrow
    import pyarrow.parquet

    try:
        parquet = pyarrow.parquet.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                if "text" not in row:
                    yield None, None, 'no "text" column', _excerpt(json.dumps(row, default=str))
                    continue
                text = row["text"]
                fields = {key: value for key, value in row.items() if key not in OUTPUT_FIELDS}
                yield _checked(text, json.dumps(fields, default=str), max_chars)
    except pyarrow.ArrowException as exc:
        raise OSError(f"not a readable Parquet file ({exc})") from exc


def _decode(raw: bytes) -> Tuple[Optional[str], Optional[str]]:
    """A line's text without its line break, or the error that it is not UTF-8."""
    try:
        return raw.decode("utf-8").rstrip("\n").removesuffix("\r"), None
    except UnicodeDecodeError as exc:
        return None, f"undecodable bytes, not UTF-8 ({exc})"


def _checked(text, fields: Optional[str], max_chars: int) -> Record:
    """The record, or an error if its text is not a string, too long, or not valid Unicode."""
    error = None
    if not isinstance(text, str):
        error = f'"text" is {_json_type(text)}, not a string'
    elif len(text) > max_chars:
        error = f"the text has {len(text):,} characters, over the limit of {max_chars:,} (--max-chars)"
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            error = "the text is not valid Unicode (an unpaired surrogate)"
    if error is not None:
        return None, None, error, _excerpt(text if isinstance(text, str) else json.dumps(text, default=str))
    return text, fields, None, None


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _excerpt(raw) -> str:
    """The start of a line or text, for the errors file."""
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace").rstrip("\r\n")
    return raw[:EXCERPT_CHARS].encode("utf-8", errors="replace").decode("utf-8")
