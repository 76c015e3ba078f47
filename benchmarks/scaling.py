"""Tagging a corpus on one machine: words/s of `nlp.pipe`, of `spacy apply --n-process 1` and `2`,
and of `tag_corpus --workers 1` and `2`; their start-up overhead; peak memory per worker.

    python benchmarks/scaling.py --model training/model-best --output training/benchmark-scaling

The input is the text of corpus/train.spacy (EWT, 204,607 tokens) as JSONL, a record a sentence.
Each command runs once, in a fresh process with one torch thread per process or worker. Start-up
is the wall time of the same command on a one-record input; "after start-up" divides the tokens
by the wall time less that.

Peak memory is peak RSS (which counts shared pages, Ray's object store included, in every process
that maps them), measured so that it cannot be missed wherever the processes are ours: each
command runs inside MEASURED, which reads the kernel's high-water marks when the command exits,
after every child process has been reaped: `getrusage(RUSAGE_SELF).ru_maxrss` for the main
process, `getrusage(RUSAGE_CHILDREN).ru_maxrss` (the largest of the reaped child processes and
their reaped descendants) for spaCy's worker processes, which `spacy apply --n-process 2` forks.
Ray's actors are started and reaped by Ray's raylet, not by the command, so no high-water mark the
command can read is theirs alone: their peak is sampled, the highest VmHWM (the kernel's peak RSS of
a process so far) read every 0.2 s, which misses what an actor reaches after the last read, and an
actor that lives between two reads. Sampled figures are marked so; the tests assert none."""
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
from typing import Dict, List, Optional

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


MEASURED = """
import atexit, json, os, resource, runpy, sys
report, how, target, *args = sys.argv[1:]
# The command runs in a child forked from this still small process: a process started from the
# benchmark's keeps, in its ru_maxrss, the peak RSS of the benchmark's process it was forked from
# (Linux carries the high-water mark over exec), which would hide the command's own. This one,
# forked by a process of a few MB, starts with a high-water mark of a few MB.
child = os.fork()
if child:
    _, status, usage = os.wait4(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if os.path.exists(report):  # the whole tree's peak from wait4: the command's or a reaped descendant's
        with open(report) as file:
            measured = json.load(file)
        measured["tree_mb"] = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024) / 1e6
        with open(report, "w") as file:
            json.dump(measured, file)
    os._exit(code if code >= 0 else 128 - code)
main = os.getpid()

def peaks():
    if os.getpid() != main:  # a forked worker leaving: not the command's own exit
        return
    if "multiprocessing" in sys.modules:  # join worker processes not yet joined
        import multiprocessing
        for child in multiprocessing.active_children():
            child.join()
    unreaped = 0
    while True:  # reap what is left; any child still running makes RUSAGE_CHILDREN a lower bound
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            unreaped = 1
            break
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    start = None
    if "multiprocessing" in sys.modules:
        start = sys.modules["multiprocessing"].get_start_method(allow_none=True)
    with open(report, "w") as out:
        json.dump({"self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 1e6,
                   "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * unit / 1e6,
                   "unreaped_children": unreaped, "start_method": start}, out)

atexit.register(peaks)  # registered first, so it runs last: after multiprocessing's and Ray's exit handlers
if how == "-m":
    sys.argv = [target, *args]
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    sys.argv = ["-c", *args]
    exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
"""
"""Runs a command (`-m module args` or `-c code args`) in a child process of its own, and at the
command's exit, after its child processes are reaped, writes to the file given first the command's
peak RSS (RUSAGE_SELF) and the largest of its reaped child processes' (RUSAGE_CHILDREN), in MB,
whether any child was left unreaped, and, from wait4, the whole tree's."""

LOADED = """
import sys
import spacy
nlp = spacy.load(sys.argv[1])
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(int(status["RssAnon"].split()[0]) * 1024 / 1e6)
"""
"""A fresh process that loads the model: prints its anonymous memory (MB), which a worker forked
from a process that loaded the model holds a copy of."""


def make_input(path: Path, records: int) -> int:
    """Write the first `records` sentences of corpus/train.spacy as JSONL; return how many."""
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(TRAIN).get_docs(spacy.blank("en").vocab))[:records]
    path.write_text("".join(json.dumps({"id": i, "text": doc.text.strip()}) + "\n" for i, doc in enumerate(docs)))
    return len(docs)


class Watched:
    """Runs a command (`-m module args` or `-c code args`) inside MEASURED with one torch thread a
    process: `self_mb` and `children_mb` are the exact peak RSS of the command's process and the
    largest of its reaped child processes. Meanwhile it samples the peak RSS (VmHWM) of the command
    and every process below it (Ray's workers) every 0.2 s, for the processes that are none of ours."""

    def __init__(self, command: List[str], scratch: Path) -> None:
        self.peaks: Dict[int, tuple] = {}  # pid: (highest peak RSS seen in MB, command line)
        report = scratch / "peaks.json"
        report.unlink(missing_ok=True)
        self.load_before = os.getloadavg()[0]
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", MEASURED, str(report), *command], cwd=ROOT,
                                   env=thread_env(1), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
        if not report.exists():
            raise RuntimeError(f"{' '.join(command)} left no peak-memory report:\n{self.stderr[-3000:]}")
        measured = json.loads(report.read_text())
        self.self_mb, self.children_mb = measured["self_mb"], measured["children_mb"]
        self.all_reaped, self.start_method = not measured["unreaped_children"], measured["start_method"]
        self.tree_mb = measured["tree_mb"]

    def _poll(self, pid: int, done: threading.Event) -> None:
        while not done.is_set():
            try:
                parent = psutil.Process(pid)
                processes = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    rss, line = peak_rss(process), " ".join(process.cmdline())
                except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
                    continue
                peak = self.peaks.get(process.pid, (0.0, line))[0]
                self.peaks[process.pid] = (max(peak, rss), line)
            time.sleep(0.2)

    def sampled_peak(self, where) -> Optional[float]:
        """The highest sampled peak RSS (MB) among the processes whose pid and command line `where`
        takes; None if the sampler saw none of them."""
        return max((rss for pid, (rss, line) in self.peaks.items() if where(pid, line)), default=None)


def peak_rss(process: psutil.Process) -> float:
    """A live process's peak RSS so far (MB): VmHWM where /proc has it, else its RSS now."""
    try:
        for line in open(f"/proc/{process.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except FileNotFoundError:
        pass
    return process.memory_info().rss / 1e6


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


SELF = "exact: getrusage(RUSAGE_SELF).ru_maxrss of the one process, at its exit"
MAIN = "exact: getrusage(RUSAGE_SELF).ru_maxrss of the main process, at its exit"
CHILDREN = ("exact: getrusage(RUSAGE_CHILDREN).ru_maxrss in the main process at its exit, after it has "
            "reaped its worker processes: the largest of them")
LOWER_BOUND = CHILDREN + "; a child was still running then, so a lower bound"
SAMPLED = "sampled: the highest VmHWM of the Ray actors (ray::TagRecords) read every 0.2 s; can miss"


def run_pipe(model: str, data: Path, scratch: Path) -> Dict:
    run = Watched(["-c", PIPE, model, str(data)], scratch)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return {"wall": run.wall, "startup": run.wall - result["tagging"], "tagging": result["tagging"],
            "tokens": result["tokens"], "load": (run.load_before, run.load_after), **one_process(run)}


def one_process(run: Watched) -> Dict:
    """The memory fields of a row whose one process does the tagging."""
    return {"worker_mb": run.self_mb, "worker_mb_exact": True, "worker_mb_how": SELF,
            "main_mb": run.self_mb, "main_mb_how": SELF, "children_mb": run.children_mb, "tree_mb": run.tree_mb}


def run_apply(model: str, data: Path, processes: int, batch_size: int, scratch: Path) -> Watched:
    output = scratch / "apply.spacy"
    output.unlink(missing_ok=True)
    return Watched(["-m", "spacy", "apply", model, str(data), str(output),
                    "--n-process", str(processes), "--batch-size", str(batch_size)], scratch)


def run_tag_corpus(model: str, data: Path, workers: int, scratch: Path) -> Watched:
    output = scratch / "tagged"
    shutil.rmtree(output, ignore_errors=True)
    run = Watched(["-m", "spacy", "lstm-tagger", "tag-corpus", model, str(data), str(output),
                   "--workers", str(workers), "--batch-size", "256"], scratch)
    run.summary = json.loads((output / "summary.json").read_text())
    return run


def loaded_model(model: str, scratch: Path) -> Dict:
    """What a fresh process that imports spaCy and loads the model holds: its peak RSS, and its
    anonymous memory after loading (read once, in the process), which every worker forked from a
    process that has loaded the model holds a copy of."""
    run = Watched(["-c", LOADED, model], scratch)
    return {"peak_mb": run.self_mb, "anon_mb": float(run.stdout.strip().splitlines()[-1])}


def worker_cell(row: Dict) -> str:
    """The peak RSS per worker, marked where it is not exact."""
    if row["worker_mb_exact"]:
        return f"{row['worker_mb']:,.0f}"
    if row["worker_mb_how"] == LOWER_BOUND:
        return f"at least {row['worker_mb']:,.0f}"
    return "not seen (sampled)" if row["worker_mb"] is None else f"{row['worker_mb']:,.0f} (sampled)"


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
        results["loaded_model"] = loaded = loaded_model(args.model, scratch)
        pipe = run_pipe(args.model, data, scratch)
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
                row.update(worker_mb=run.sampled_peak(lambda pid, line: "TagRecords" in line),
                           worker_mb_exact=False, worker_mb_how=SAMPLED, main_mb=run.self_mb, main_mb_how=MAIN,
                           children_mb=run.children_mb, tree_mb=run.tree_mb)
                if run.summary["tokens"] != tokens:
                    raise RuntimeError(f"tag_corpus tagged {run.summary['tokens']} tokens, nlp.pipe {tokens}")
            elif workers == 1:
                row.update(one_process(run))
            else:
                # exact only if nothing was left unreaped: a child still running at the exit would
                # make RUSAGE_CHILDREN a lower bound
                row.update(worker_mb=run.children_mb, worker_mb_exact=run.all_reaped,
                           worker_mb_how=CHILDREN if run.all_reaped else LOWER_BOUND,
                           main_mb=run.self_mb, main_mb_how=MAIN, children_mb=run.children_mb,
                           tree_mb=run.tree_mb, start_method=run.start_method)
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
          worker_cell(row), f"{row['main_mb']:,.0f}", "%.2f / %.2f" % row["load"]] for row in rows],
    )
    where = results["machine"]
    report = (f"{records:,} records of corpus/train.spacy, {tokens:,} tokens (spaCy's tokenizer); "
              f"{where['cpu_count']} CPUs ({where['cpu']}), GPU: {where['gpu'] or 'none'}, spaCy {where['spacy']}, "
              f"torch {where['torch']}, {where['date']}.\n`{where['command']}`\n\n{table}\n\n"
              "Peak RSS counts shared pages in every process that maps them. How each figure is measured: "
              "the main process's, and the worker's of the one-process rows, are the kernel's high-water mark "
              "`getrusage(RUSAGE_SELF).ru_maxrss`, read in the process as it exits (exact); the workers' of "
              "`spacy apply --n-process 2` are `getrusage(RUSAGE_CHILDREN).ru_maxrss` read in its main process "
              "after it has reaped them, the largest of them (exact; \"at least\" if a child was still running); "
              "tag_corpus's are Ray actors, started by "
              "Ray's raylet, not by the command, so their peak is sampled (the highest VmHWM read every 0.2 s): "
              "\"(sampled)\", it can miss an actor altogether (\"not seen\"). For scale: a fresh process that "
              f"imports spaCy and loads the model peaks at {loaded['peak_mb']:,.0f} MB, {loaded['anon_mb']:,.0f} MB "
              "of it anonymous memory, which each worker that `spacy apply` forks holds a copy of.\n\n"
              "Other processes busy before the runs (share of one core):\n\n"
              + "".join(f"- {line}\n" for line in results["busy_before"] or ["none"])
              + "\nand after them:\n\n" + "".join(f"- {line}\n" for line in results["busy_after"] or ["none"]))
    (args.output / "scaling.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
