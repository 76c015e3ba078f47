"""The tag_corpus job: Ray Data reads INPUT, a pool of actors tags it, and the driver writes
OUTPUT_DIR in input order, file by file."""
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

from .inputs import DEFAULT_MAX_CHARS, TagCorpusError, list_inputs
from .outputs import Collector, OutputDir, output_names

INSTALL_HINT = 'pip install "spacy-lstm-tagger[ray]"'
READ_TASKS = 2
"""Input files read at once. Reading is light beside tagging, so read tasks take no CPU of Ray's
count, which the tagging workers fill."""
BLOCK_BYTES = 256 * 1024
"""About how much input goes into a block, the unit of work of an actor (and what Ray runs again
after a fault): some 40,000 tokens of text, a second or two on one thread. Ray Data would
otherwise make blocks of 1 MiB or more, whose output comes back only when all of it is tagged."""


@dataclass
class Summary:
    """What a run did. Times are in seconds from the start of the run."""

    output_dir: str = ""
    files: int = 0
    finished_before: int = 0
    records: int = 0
    failed: int = 0
    tokens: int = 0
    seconds: float = 0.0
    ray_started: float = 0.0
    first_batch: float = 0.0
    errors_files: List[str] = field(default_factory=list)

    @property
    def words_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        lines = [
            f"tag_corpus: done, into {self.output_dir}",
            f"  files: {self.files:,} tagged, {self.finished_before:,} finished before",
            f"  records: {self.records:,} tagged, {self.failed:,} failed" + self._errors_note(),
            f"  tokens: {self.tokens:,} in {self.seconds:.1f} s: {self.words_per_second:,.0f} words/s",
        ]
        if self.files:
            lines.append(f"  start-up: Ray ready after {self.ray_started:.1f} s, "
                         f"the first tagged batch after {self.first_batch:.1f} s")
        return "\n".join(lines)

    def _errors_note(self) -> str:
        if not self.errors_files:
            return ""
        if len(self.errors_files) <= 3:
            return f" (the reasons in {', '.join(self.errors_files)})"
        return f" (the reasons in {len(self.errors_files):,} *.errors.jsonl files in {self.output_dir})"


def import_ray():
    """Ray, with Ray Data; a TagCorpusError saying how to install it if it is missing."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise TagCorpusError(f"tag_corpus needs Ray Data, which is not installed ({exc}): {INSTALL_HINT}") from exc
    return ray


def tag_corpus(
    model: str,
    input: str,
    output_dir: str,
    *,
    workers: int = 1,
    batch_size: int = 256,
    gpus_per_worker: float = 0.0,
    address: Optional[str] = None,
    probabilities: bool = False,
    output_format: str = "jsonl",
    input_format: str = "auto",
    max_chars: int = DEFAULT_MAX_CHARS,
    resume: bool = False,
) -> Summary:
    """Tag every record of INPUT with the pipeline MODEL into OUTPUT_DIR, and say what was done.

    model (str): A pipeline directory (at the same path on every node) or an installed package.
    input (str): A file, folder or glob of JSONL, plain text or Parquet (`inputs.list_inputs`).
    output_dir (str): New or empty; with `resume`, the folder of an earlier run with the same
        settings, whose finished files are skipped.
    workers (int): Tagging actors, each with one CPU (and `gpus_per_worker` GPUs).
    batch_size (int): Records per batch given to an actor.
    address (Optional[str]): The Ray cluster to join (or RAY_ADDRESS); else a local Ray instance
        is started, on the loopback address, and stopped at the end. If Ray is already
        initialized in this process, the job runs there.
    probabilities (bool): Also write `tag_probs`.
    output_format (str): "jsonl" or "parquet".
    input_format (str): "auto" (by suffix), "jsonl", "text" or "parquet".
    max_chars (int): Longer texts go to the errors file.
    RETURNS (Summary): Files, records, failures, tokens and times of this run.
    """
    ray = import_ray()
    start = time.perf_counter()
    _check_arguments(workers, batch_size, gpus_per_worker, output_format, max_chars)
    files = list_inputs(input, input_format, exclude=output_dir)
    model = str(Path(model).resolve()) if os.path.exists(model) else model
    settings = {"model": model, "probabilities": probabilities, "output_format": output_format, "max_chars": max_chars}
    out = OutputDir(output_dir, settings, output_names(files, output_format), resume)
    todo = [file for file in files if not out.finished(file.name)]
    summary = Summary(str(out.path), files=len(todo), finished_before=len(files) - len(todo))
    if todo:
        started_ray = _connect(ray, address, workers)
        summary.ray_started = time.perf_counter() - start
        try:
            collector = Collector(out)
            tagger_settings = {"model": model, "probabilities": probabilities, "gpu": gpus_per_worker > 0,
                               "max_chars": max_chars}
            for rows in _tagged_batches(ray, todo, tagger_settings, workers, batch_size, gpus_per_worker):
                summary.first_batch = summary.first_batch or time.perf_counter() - start
                collector.add(rows)
            collector.close()
        finally:
            if started_ray:
                ray.shutdown()
        summary.records, summary.failed, summary.tokens = collector.records, collector.failed, collector.tokens
        summary.errors_files = [str(path) for path in collector.errors_files]
    summary.seconds = time.perf_counter() - start
    (out.path / "summary.json").write_text(json.dumps(asdict(summary), indent=2) + "\n")
    return summary


def _check_arguments(workers, batch_size, gpus_per_worker, output_format, max_chars) -> None:
    for name, value in (("--workers", workers), ("--batch-size", batch_size), ("--max-chars", max_chars)):
        if not isinstance(value, int) or value < 1:
            raise TagCorpusError(f"tag_corpus: {name} must be a positive integer, got {value!r}")
    if gpus_per_worker < 0:
        raise TagCorpusError(f"tag_corpus: --gpus-per-worker must be 0 or more, got {gpus_per_worker!r}")
    if output_format not in ("jsonl", "parquet"):
        raise TagCorpusError(f"tag_corpus: --output-format must be jsonl or parquet, got {output_format!r}")


def _connect(ray, address: Optional[str], workers: int) -> bool:
    """Join the cluster at `address` or RAY_ADDRESS, or start a local Ray instance; True if this
    started Ray here (and so must stop it)."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address)
        return True
    ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False)
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if workers > cpus:
        ray.shutdown()
        raise TagCorpusError(f"tag_corpus: --workers {workers} needs {workers} CPUs, and this machine's Ray "
                             f"has {cpus}: give --workers {cpus} or fewer, or join a cluster with --address")
    return True


def _tagged_batches(ray, files, tagger_settings: dict, workers: int, batch_size: int, gpus_per_worker: float):
    """The tagged rows of the files, in input order, a batch (a list of row dicts) at a time."""
    from .source import RecordSource
    from .tagging import TagRecords

    context = ray.data.DataContext.get_current()
    preserve_order = context.execution_options.preserve_order
    context.execution_options.preserve_order = True
    try:
        blocks = max(len(files), math.ceil(sum(os.path.getsize(file.path) for file in files) / BLOCK_BYTES))
        rows = ray.data.read_datasource(
            RecordSource(files, tagger_settings["max_chars"]),
            num_cpus=0,
            concurrency=min(READ_TASKS, len(files)),
            override_num_blocks=blocks,
        )
        # Ray Data's actor pool starts a dead actor again and runs its batches again (its
        # defaults: max_restarts and max_task_retries -1); tests/test_tag_corpus_faults.py checks it.
        tagged = rows.map_batches(
            TagRecords,
            fn_constructor_kwargs=tagger_settings,
            batch_size=batch_size,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
            num_gpus=gpus_per_worker or None,
        )
        for batch in tagged.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield batch.to_pylist()
    finally:
        context.execution_options.preserve_order = preserve_order
