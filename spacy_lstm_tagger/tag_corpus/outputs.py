"""OUTPUT_DIR of tag_corpus: the run's settings, and for each input file one output file and, if
any of its records failed, an errors file, each made whole by one run."""
import json
import os
from pathlib import Path
from typing import Dict, List, Optional

from .inputs import InputFile, TagCorpusError

SETTINGS = "tag_corpus.json"
PARTIAL = ".partial"


class OutputDirError(TagCorpusError):
    """OUTPUT_DIR cannot take this run: it holds another run's output, or other settings."""


def output_names(files: List[InputFile], output_format: str) -> Dict[str, tuple]:
    """{input name: (output file, errors file)}, both relative to OUTPUT_DIR: the input's name
    with the suffix .jsonl (or .parquet), and .errors.jsonl."""
    names = {}
    for file in files:
        stem = os.path.splitext(file.name)[0]
        names[file.name] = (f"{stem}.{output_format}", f"{stem}.errors.jsonl")
    made = [name for pair in names.values() for name in pair]
    clashes = sorted({name for name in made if made.count(name) > 1})
    if clashes:
        raise OutputDirError(f"tag_corpus: input files would share the output file(s) {clashes}: "
                             "give the files with the same name but another suffix in separate runs")
    return names


class OutputDir:
    """The output folder of a run.

    Without `resume`, it must not exist or be empty. With `resume`, it must hold the settings of
    an earlier run, the same as this run's; its files whose output file exists are finished, and
    any other's partial or errors file is removed (that file is tagged again, whole).
    """

    def __init__(self, path, settings: dict, names: Dict[str, tuple], resume: bool = False) -> None:
        self.path = Path(path)
        self.names = names
        self.output_format = settings["output_format"]
        if self.path.exists() and any(self.path.iterdir()):
            if not resume:
                raise OutputDirError(f"tag_corpus: OUTPUT_DIR {self.path} exists and is not empty: "
                                     "pass --resume to finish the run that wrote it, or give a new folder")
            self._check_settings(settings)
            for partial in self.path.rglob(f"*{PARTIAL}"):
                partial.unlink()
            for name, (_, errors) in names.items():
                if not self.finished(name):
                    (self.path / errors).unlink(missing_ok=True)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n")

    def _check_settings(self, settings: dict) -> None:
        saved_file = self.path / SETTINGS
        if not saved_file.is_file():
            raise OutputDirError(f"tag_corpus: {self.path} has no {SETTINGS}, so it is not a tag_corpus "
                                 "output folder: give a new folder")
        saved = json.loads(saved_file.read_text())
        changed = {key: (saved.get(key), value) for key, value in settings.items() if saved.get(key) != value}
        if changed:
            details = "; ".join(f"{key}: {old!r} then, {new!r} now" for key, (old, new) in changed.items())
            raise OutputDirError(f"tag_corpus: cannot resume in {self.path}, written with other settings "
                                 f"({details}): give a new folder, or the same settings")

    def finished(self, name: str) -> bool:
        """Whether the input file `name` has its output file, written whole by an earlier run."""
        return (self.path / self.names[name][0]).is_file()

    def open(self, name: str) -> "FileWriter":
        output, errors = self.names[name]
        return FileWriter(self.path / output, self.path / errors, self.output_format)


class FileWriter:
    """Writes one input file's output records and errors to `.partial` files, and gives them
    their names when the file is finished: the errors file first, the output file last."""

    def __init__(self, output: Path, errors: Path, output_format: str) -> None:
        self.output, self.errors = output, errors
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.output_format = output_format
        self._records = open(self._partial(output), "w", encoding="utf-8") if output_format == "jsonl" else None
        self._parquet = None
        self._errors = None

    @staticmethod
    def _partial(path: Path) -> Path:
        return path.with_name(path.name + PARTIAL)

    def write(self, lines: List[str]) -> None:
        """Write output records, each a line of JSON."""
        if self.output_format == "jsonl":
            self._records.write("".join(line + "\n" for line in lines))
        elif lines:
            self._write_parquet([json.loads(line) for line in lines])

    def _write_parquet(self, records: List[dict]) -> None:
        import pyarrow
        import pyarrow.parquet

        if self._parquet is None:
            table = pyarrow.Table.from_pylist(records)
            self._parquet = pyarrow.parquet.ParquetWriter(self._partial(self.output), table.schema)
        else:
            unknown = sorted({key for record in records for key in record} - set(self._parquet.schema.names))
            if unknown:
                raise OutputDirError(f"tag_corpus: records of {self.output.name} have fields {unknown} that its "
                                     "first records did not have, which Parquet cannot add: write JSONL instead")
            try:
                table = pyarrow.Table.from_pylist(records, schema=self._parquet.schema)
            except (pyarrow.ArrowException, TypeError) as exc:
                raise OutputDirError(f"tag_corpus: the records of {self.output.name} do not share one "
                                     f"Parquet schema ({exc}): write JSONL instead") from exc
        self._parquet.write_table(table)

    def error(self, file: str, line: int, reason: str, excerpt: Optional[str]) -> None:
        """Write a record that failed, with the reason."""
        if self._errors is None:
            self._errors = open(self._partial(self.errors), "w", encoding="utf-8")
        record = {"_file": file, "_line": line, "error": reason, "excerpt": excerpt}
        self._errors.write(json.dumps(record, ensure_ascii=False) + "\n")

    def finish(self) -> None:
        """Close the files and give them their names."""
        if self._errors is not None:
            self._errors.close()
            os.replace(self._partial(self.errors), self.errors)
        if self.output_format == "parquet" and self._parquet is None:
            import pyarrow
            import pyarrow.parquet

            empty = pyarrow.schema([("_file", pyarrow.string()), ("_line", pyarrow.int64()), ("text", pyarrow.string()),
                                    ("tokens", pyarrow.list_(pyarrow.string())), ("tags", pyarrow.list_(pyarrow.string()))])
            self._parquet = pyarrow.parquet.ParquetWriter(self._partial(self.output), empty)
        (self._records or self._parquet).close()
        os.replace(self._partial(self.output), self.output)


class Collector:
    """Writes the tagged rows, which come in input order, to their files, and checks that each
    file's records come once each, numbered 1, 2, ... up to its end row: a file is finished only
    then, so no record is lost or written twice."""

    def __init__(self, out: OutputDir) -> None:
        self.out = out
        self.records = self.failed = self.tokens = 0
        self.errors_files: List[Path] = []
        self._file: Optional[str] = None
        self._writer: Optional[FileWriter] = None
        self._next_line = 1

    def add(self, rows: List[dict]) -> None:
        """Write a batch of tagged rows (`tagging.TagRecords`)."""
        lines = []
        for row in rows:
            if row["file"] != self._file:
                self._flush(lines)
                self._start(row["file"])
            if row["end"]:
                self._flush(lines)
                self._end(row["line"])
            elif row["line"] != self._next_line:
                raise RuntimeError(f"tag_corpus: record {row['line']} of {row['file']} came where record "
                                   f"{self._next_line} was due: records were lost or repeated")
            else:
                self._next_line += 1
                if row["error"] is not None:
                    self._writer.error(row["file"], row["line"], row["error"], row["excerpt"])
                    self.failed += 1
                else:
                    lines.append(row["output"])
                    self.records += 1
                    self.tokens += row["tokens"]
        self._flush(lines)

    def _start(self, name: str) -> None:
        if self._file is not None:
            raise RuntimeError(f"tag_corpus: the records of {self._file} stopped before its end")
        self._file, self._writer, self._next_line = name, self.out.open(name), 1

    def _flush(self, lines: List[str]) -> None:
        if lines:
            self._writer.write(lines)
            lines.clear()

    def _end(self, count: int) -> None:
        if count != self._next_line - 1:
            raise RuntimeError(f"tag_corpus: {self._file} has {count} records, but {self._next_line - 1} came")
        self._writer.finish()
        if self._writer.errors.is_file():
            self.errors_files.append(self._writer.errors)
        self._file = self._writer = None

    def close(self) -> None:
        """Check that the last file was finished."""
        if self._file is not None:
            raise RuntimeError(f"tag_corpus: the records of {self._file} stopped before its end")
