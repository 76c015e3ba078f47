"""The seven commands, one Typer app: `python -m spacy lstm-tagger COMMAND` (through spaCy's
`spacy_cli` entry point) and `python -m spacy_lstm_tagger COMMAND`.

Every `python -m spacy ...` call loads this module, so each command imports what it runs only
when it runs."""
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..tag_corpus.inputs import DEFAULT_MAX_CHARS

app = typer.Typer(name="lstm-tagger", help="Commands of spacy-lstm-tagger, the lstm_tagger component.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


# The choices, as str Enums: every Typer version that spaCy allows takes them.
class CorpusFormat(str, Enum):
    tsv = "tsv"
    conllu = "conllu"


class TagColumn(str, Enum):
    upos = "upos"
    xpos = "xpos"


class InputFormat(str, Enum):
    auto = "auto"
    jsonl = "jsonl"
    text = "text"
    parquet = "parquet"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


@app.command("convert")
def convert_command(
    input_path: Path = typer.Argument(..., metavar="input", help="a .tsv or .conllu file"),
    output: Path = typer.Argument(..., help="the .spacy file to write"),
    file_format: Optional[CorpusFormat] = typer.Option(None, "--format", help="default: from the suffix"),
    tag_column: TagColumn = typer.Option(TagColumn.xpos, "--tag-column", help="CoNLL-U only"),
):
    """Convert a word/tag TSV or CoNLL-U file into a .spacy file.

    TSV: one `word<TAB>tag` a line, a blank line between sentences. CoNLL-U: the FORM and XPOS
    (or UPOS) columns; multi-word token ranges and empty nodes are skipped. Each sentence becomes
    one Doc with gold tokens and tags.
    """
    from .convert import convert

    count = convert(input_path, output, file_format.value if file_format else "", tag_column.value)
    print(f"Wrote {count} docs to {output}")


@app.command("calibrate")
def calibrate_command(
    model: str = typer.Argument(..., help="a pipeline directory or package name"),
    data: Path = typer.Argument(..., help="a .spacy file with gold tags (the dev set)"),
    output: Path = typer.Option(..., "--output", help="where to save the calibrated pipeline"),
):
    """Fit each lstm_tagger's temperature on gold-tagged data.

    Saves the calibrated pipeline to OUTPUT. For a pipeline saved without a temperature: the
    default config fits one with every save of spacy train.
    """
    import spacy

    from ..pipeline.calibration import calibrate, read_gold_docs

    nlp = spacy.load(model)
    for name, temperature in calibrate(nlp, read_gold_docs(data, nlp), source=str(data)).items():
        print(f"{name}: temperature {temperature:.4f}")
    nlp.to_disk(output)
    print(f"Saved the calibrated pipeline to {output}")


@app.command("distill", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def distill_command(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="the student's training config (e.g. configs/lstm_tagger.cfg)"),
    output: Path = typer.Argument(..., help="the folder for the student, as spacy train's --output"),
    teachers: List[Path] = typer.Option(..., "--teacher", help="a trained pipeline; give it once per teacher"),
    raw_text: List[Path] = typer.Option([], "--raw-text", help="JSONL with a text field, or a folder of them"),
    cache: Optional[Path] = typer.Option(None, "--cache", help="the teachers' probabilities (default: OUTPUT/teacher-cache)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", help="the GPU to train on (-1: the CPU)"),
):
    """Train a student on the averaged tag probabilities of teacher pipelines.

    Runs spacy train on CONFIG, whose training corpus becomes the reader
    spacy_lstm_tagger.DistillationCorpus.v1: the training Docs and the raw text, each with the
    teachers' probabilities (tagged once, cached). Config overrides as for spacy train (e.g.
    --paths.train corpus/train.spacy --paths.dev corpus/dev.spacy --system.seed 1). OUTPUT holds
    model-best and model-last, ordinary pipelines whose configs name no teacher.
    """
    from spacy.cli._util import parse_config_overrides

    from .distill import distill

    distill(config, output, teachers, raw_text, cache or output / "teacher-cache", gpu_id,
            parse_config_overrides(ctx.args))


@app.command("meta")
def meta_command(
    meta_file: Path = typer.Argument(..., help="a JSON object: description, license, sources, ..."),
    pipelines: List[Path] = typer.Argument(..., help="saved pipeline directories"),
):
    """Give pipelines the description, licence and sources of their data.

    Each pipeline's meta.json takes the keys of META_FILE and keeps its own others (name, version,
    performance); spacy package then writes them into the package and its wheel.
    """
    from .meta import add_meta

    add_meta(meta_file, pipelines)


@app.command("quantize")
def quantize_command(
    in_model: str = typer.Argument(..., help="a pipeline directory or package name"),
    out_model: Path = typer.Argument(..., help="a new folder for the int8 pipeline"),
):
    """Copy a pipeline to tag with int8 weights on a CPU.

    The copy's config sets quantize = true on every lstm_tagger; its saved weights are the float
    ones, so the override quantize = false gives back the float tagger exactly.
    """
    from .quantize import quantize_pipeline

    names = quantize_pipeline(in_model, out_model)
    print(f"Wrote {out_model}: quantize = true on {', '.join(names)}")


@app.command("report")
def report_command(
    model: str = typer.Argument(..., help="a pipeline directory or package name"),
    data: Path = typer.Argument(..., help="a .spacy file with gold tags"),
    output: Path = typer.Option(..., "--output", help="directory for the report files"),
    train: Optional[Path] = typer.Option(None, "--train", help="the training .spacy file, for unseen-word accuracy"),
    top: int = typer.Option(20, "--top", help="confusions listed and tags in the heatmap"),
):
    """Report per-tag scores, confusions and calibration on gold data.

    On gold-tokenized DATA: accuracy, unseen-word accuracy, P/R/F1 per tag, the most frequent
    confusions and the calibration of the tag probabilities. Writes OUTPUT/report.json, report.md
    (also printed), confusion.png and, for an lstm_tagger, reliability.png.
    """
    from .report import format_report, write_report

    report = write_report(model, data, output, train, top)
    print(format_report(report))
    plots = "confusion.png and reliability.png" if report["calibration"] else "confusion.png"
    print(f"Wrote report.json, report.md, {plots} to {output}")


@app.command("tag-corpus")
def tag_corpus_command(
    model: str = typer.Argument(..., help="a pipeline directory, or an installed package name"),
    input_path: str = typer.Argument(..., metavar="input", help="a file, folder or glob of JSONL (a text field), "
                                     "plain text (one record a line) or Parquet (a text column)"),
    output_dir: str = typer.Argument(..., help="a new or empty folder (or, with --resume, an earlier run's)"),
    workers: int = typer.Option(1, "--workers", help="tagging actors, one CPU each"),
    batch_size: int = typer.Option(256, "--batch-size", help="records per batch"),
    gpus_per_worker: float = typer.Option(0.0, "--gpus-per-worker", help="GPUs per actor"),
    address: Optional[str] = typer.Option(None, "--address",
                                          help="the Ray cluster to join (default: RAY_ADDRESS, else a local instance)"),
    probabilities: bool = typer.Option(False, "--probabilities", help="also write tag_probs"),
    output_format: OutputFormat = typer.Option(OutputFormat.jsonl, "--output-format"),
    input_format: InputFormat = typer.Option(
        InputFormat.auto, "--input-format",
        help="auto: by suffix (.jsonl .ndjson .json, .parquet, anything else text)"),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, "--max-chars", help="longer texts are errors"),
    resume: bool = typer.Option(
        False, "--resume", help="OUTPUT_DIR is an earlier run's: skip its finished files, tag the rest"),
):
    """Tag a corpus with Ray Data, every record accounted for.

    Tags every record of INPUT with the pipeline MODEL into OUTPUT_DIR, on a local Ray instance or
    a Ray cluster. Records that cannot be tagged go to errors files, with the reason.
    """
    from ..tag_corpus import TagCorpusError, tag_corpus

    try:
        summary = tag_corpus(
            model, input_path, output_dir, workers=workers, batch_size=batch_size, gpus_per_worker=gpus_per_worker,
            address=address, probabilities=probabilities, output_format=output_format.value,
            input_format=input_format.value, max_chars=max_chars, resume=resume,
        )
    except TagCorpusError as error:
        print(error, file=sys.stderr)
        raise typer.Exit(1)
    print(summary)
