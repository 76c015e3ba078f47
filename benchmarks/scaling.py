"""Tagging a corpus on one machine: words/s of `nlp.pipe`, of `spacy apply --n-process 1` and `2`,
and of `tag_corpus --workers 1` and `2`; their start-up overhead; peak memory per worker.

    python benchmarks/scaling.py --model training/model-best --output training/benchmark-scaling

The input is the text of corpus/train.spacy (EWT, 204,607 tokens) as JSONL, a record a sentence.
Each command runs once, in a fresh process with one torch thread per process or worker. Start-up
is the wall time of the same command on a one-record input; "after start-up" divides the tokens
by the wall time less that. Peak memory is the highest RSS of each process, polled every 0.2 s
(RSS counts shared pages, Ray's object store included, in every process that maps them)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

import psutil

from common import ROOT, TRAIN, machine, markdown_table, thread_env

PIPE = """
import json, sys, time
t0 = time.perf_counter()
import spacy
nlp = spacy.load(sys.argv[1])
texts = [json.loads(line)["text"] for line in open(sys.argv[2])]
t1 = time.perf_counter()
tokens = sum(len(doc) for doc in nlp.pipe(texts, batch_size=256))
print(json.dumps({"tokens": tokens, "tagging": time.perf_counter() - t1, "load": t1 - t0}))
"""


def make_input(path: Path, records: int) -> int:
    """Write the first `records` sentences of corpus/train.spacy as JSONL; return how many."""
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(TRAIN).get_docs(spacy.blank("en").vocab))[:records]
    path.write_text("".join(json.dumps({"id": i, "text": doc.text.strip()}) + "\n" for i, doc in enumerate(docs)))
    return len(docs)


class Watched:
    """Runs a command with one torch thread a process, and polls the RSS of it and every process
    below it (Ray's workers, spaCy's worker processes)."""

    def __init__(self, command: List[str]) -> None:
        self.peaks: Dict[int, tuple] = {}  # pid: (peak RSS in MB, command line)
        self.load_before = os.getloadavg()[0]
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=thread_env(1), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        done = threading.Event()
        poller = threading.Thread(target=self._poll, args=(process.pid, done))
        poller.start()
        self.stdout, self.stderr = process.communicate()
        self.wall = time.perf_counter() - start
        done.set()
        poller.join()
        self.load_after = os.getloadavg()[0]
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{self.stderr[-3000:]}")
        self.main = process.pid

    def _poll(self, pid: int, done: threading.Event) -> None:
        while not done.is_set():
            try:
                parent = psutil.Process(pid)
                processes = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    rss, line = process.memory_info().rss / 1e6, " ".join(process.cmdline())
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                peak = self.peaks.get(process.pid, (0.0, line))[0]
                self.peaks[process.pid] = (max(peak, rss), line)
            time.sleep(0.2)

    def peak(self, where) -> float:
        """The highest peak RSS (MB) among the processes whose pid and command line `where` takes."""
        return max((rss for pid, (rss, line) in self.peaks.items() if where(pid, line)), default=0.0)


def busy_processes(seconds: float = 2.0) -> List[str]:
    """The other processes using more than a quarter of a core, over `seconds`: the machine's
    load from others, for the record."""
    processes = list(psutil.process_iter(["cmdline"]))
    for process in processes:
        try:
            process.cpu_percent()
        except psutil.NoSuchProcess:
            pass
    time.sleep(seconds)
    busy = []
    for process in processes:
        try:
            share = process.cpu_percent()
        except psutil.NoSuchProcess:
            continue
        if share > 25 and process.pid != os.getpid():
            busy.append(f"{share:.0f}% {' '.join(process.info['cmdline'] or [])[:100]}")
    return busy


def run_pipe(model: str, data: Path) -> Dict:
    run = Watched([sys.executable, "-c", PIPE, model, str(data)])
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return {"wall": run.wall, "startup": run.wall - result["tagging"], "tagging": result["tagging"],
            "tokens": result["tokens"], "worker_mb": run.peak(lambda pid, line: pid == run.main),
            "main_mb": run.peak(lambda pid, line: pid == run.main), "load": (run.load_before, run.load_after)}


def run_apply(model: str, data: Path, processes: int, batch_size: int, scratch: Path) -> Watched:
    output = scratch / "apply.spacy"
    output.unlink(missing_ok=True)
    return Watched([sys.executable, "-m", "spacy", "apply", model, str(data), str(output),
                    "--n-process", str(processes), "--batch-size", str(batch_size)])


def run_tag_corpus(model: str, data: Path, workers: int, scratch: Path) -> Watched:
    output = scratch / "tagged"
    shutil.rmtree(output, ignore_errors=True)
    run = Watched([sys.executable, "-m", "spacy_lstm_tagger.tag_corpus", model, str(data), str(output),
                   "--workers", str(workers), "--batch-size", "256"])
    run.summary = json.loads((output / "summary.json").read_text())
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a pipeline directory or package")
    parser.add_argument("--records", type=int, default=12543, help="sentences of corpus/train.spacy to tag")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-scaling")
    parser.add_argument("--quick", action="store_true", help="no one-record start-up runs (for the tests)")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        data, tiny = scratch / "corpus.jsonl", scratch / "one.jsonl"
        records = make_input(data, args.records)
        make_input(tiny, 1)
        results = {"machine": machine(), "records": records, "rows": [], "busy_before": busy_processes()}
        pipe = run_pipe(args.model, data)
        tokens = pipe["tokens"]
        results["tokens"] = tokens
        rows = [{"command": "nlp.pipe (batch_size 256), in one process", "workers": 1, **pipe}]
        for label, workers, run_command in [
            ("spacy apply --n-process 1 --batch-size 1 (its default batch size)", 1,
             lambda d: run_apply(args.model, d, 1, 1, scratch)),
            ("spacy apply --n-process 1 --batch-size 256", 1, lambda d: run_apply(args.model, d, 1, 256, scratch)),
            ("spacy apply --n-process 2 --batch-size 256", 2, lambda d: run_apply(args.model, d, 2, 256, scratch)),
            ("tag_corpus --workers 1 --batch-size 256", 1, lambda d: run_tag_corpus(args.model, d, 1, scratch)),
            ("tag_corpus --workers 2 --batch-size 256", 2, lambda d: run_tag_corpus(args.model, d, 2, scratch)),
        ]:
            print(f"{label} ...", flush=True)
            run = run_command(data)
            startup = None if args.quick else run_command(tiny).wall
            row = {"command": label, "workers": workers, "wall": run.wall, "startup": startup,
                   "tagging": run.wall - startup if startup is not None else None, "tokens": tokens,
                   "load": (run.load_before, run.load_after)}
            if "tag_corpus" in label:
                row["summary"] = run.summary
                row["worker_mb"] = run.peak(lambda pid, line: "TagRecords" in line)
                row["main_mb"] = run.peak(lambda pid, line: pid == run.main)
                if run.summary["tokens"] != tokens:
                    raise RuntimeError(f"tag_corpus tagged {run.summary['tokens']} tokens, nlp.pipe {tokens}")
            elif workers == 1:
                row["worker_mb"] = row["main_mb"] = run.peak(lambda pid, line: pid == run.main)
            else:
                row["worker_mb"] = run.peak(lambda pid, line: pid != run.main)
                row["main_mb"] = run.peak(lambda pid, line: pid == run.main)
            rows.append(row)
    results["rows"] = rows
    results["busy_after"] = busy_processes()
    (args.output / "scaling.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown_table(
        ["command", "processes / workers", "words/s, end to end", "words/s after start-up", "start-up (s)",
         "wall (s)", "peak RSS per worker (MB)", "peak RSS, main process (MB)", "load avg before / after"],
        [[row["command"], row["workers"], f"{tokens / row['wall']:,.0f}",
          f"{tokens / row['tagging']:,.0f}" if row["tagging"] else "",
          f"{row['startup']:.1f}" if row["startup"] is not None else "", f"{row['wall']:.1f}",
          f"{row['worker_mb']:,.0f}", f"{row['main_mb']:,.0f}", "%.2f / %.2f" % row["load"]] for row in rows],
    )
    where = results["machine"]
    report = (f"{records:,} records of corpus/train.spacy, {tokens:,} tokens (spaCy's tokenizer); "
              f"{where['cpu_count']} CPUs ({where['cpu']}), GPU: {where['gpu'] or 'none'}, spaCy {where['spacy']}, "
              f"torch {where['torch']}, {where['date']}.\n`{where['command']}`\n\n{table}\n\n"
              "Other processes busy before the runs (share of one core):\n\n"
              + "".join(f"- {line}\n" for line in results["busy_before"] or ["none"])
              + "\nand after them:\n\n" + "".join(f"- {line}\n" for line in results["busy_after"] or ["none"]))
    (args.output / "scaling.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
