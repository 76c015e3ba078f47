"""Shared benchmark code: EWT as gold-word Docs, unseen words, system configs, subprocesses."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "corpus" / "train.spacy"
DEV = ROOT / "corpus" / "dev.spacy"
MEASURE = Path(__file__).resolve().parent / "measure.py"
EXPECTED_UNSEEN = (2090, 25150)  # ../shared/REFERENCE.md: unseen dev tokens, all dev tokens
SYSTEMS = {
    "lstm_tagger": "this plugin, configs/lstm_tagger.cfg",
    "spacy_cnn": "spaCy tagger, init config -o efficiency (HashEmbedCNN, width 96, depth 4)",
    "spacy_bilstm": "spaCy tagger, efficiency config, tok2vec encoder spacy.TorchBiLSTMEncoder.v1 "
                    "(width 128 = 64 per direction, depth 2, dropout 0.1)",
}
BILSTM_ENCODER = {"@architectures": "spacy.TorchBiLSTMEncoder.v1", "width": 128, "depth": 2, "dropout": 0.1}
QUICK_OVERRIDES = [
    "--training.max_steps", "200", "--training.eval_frequency", "100",
    "--corpora.train.limit", "2000", "--corpora.dev.limit", "200",
]
PROGRESS = re.compile(r"^\s*\d+\s+\d+\s")  # a row of spacy train's console logger: epoch, step, ...
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def gold_docs(vocab, path: Path = DEV) -> Tuple[List, List[List[str]]]:
    """Docs holding only the gold words and spaces of `path`, and their gold tags."""
    from spacy.tokens import DocBin

    refs = list(DocBin().from_disk(path).get_docs(vocab))
    return [word_doc(ref) for ref in refs], [[t.tag_ for t in ref] for ref in refs]


def word_doc(ref):
    """A Doc with the words and spaces of `ref` and no annotation."""
    from spacy.tokens import Doc

    return Doc(ref.vocab, words=[t.text for t in ref], spaces=[bool(t.whitespace_) for t in ref])


def dev_reference(train: Path = TRAIN) -> Dict:
    """Gold dev tags, and per dev token whether its exact form never occurs in `train`."""
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    forms = {t.text for doc in DocBin().from_disk(train).get_docs(vocab) for t in doc}
    dev = list(DocBin().from_disk(DEV).get_docs(vocab))
    unseen = [[t.text not in forms for t in doc] for doc in dev]
    return {"gold": [[t.tag_ for t in doc] for doc in dev], "unseen": unseen,
            "n_unseen": sum(map(sum, unseen)), "n_tokens": sum(map(len, unseen))}


def evaluate(model: Path, reference: Dict) -> Dict:
    """Tag accuracy (%) of `model` on gold-word dev Docs, overall and on unseen words."""
    predicted = measure("predict", model=str(model))
    pairs = [(p == g, u) for ps, gs, us in zip(predicted, reference["gold"], reference["unseen"])
             for p, g, u in zip(ps, gs, us) if g]
    n_unseen = sum(u for _, u in pairs)
    return {
        "tag_acc": 100.0 * sum(ok for ok, _ in pairs) / len(pairs),
        "unseen_acc": 100.0 * sum(ok for ok, u in pairs if u) / max(n_unseen, 1),
        "n_tokens": len(pairs),
        "n_unseen": n_unseen,
    }


def thread_env(threads: Optional[int]) -> Dict[str, str]:
    """The environment for a child process limited to `threads` threads (None: unchanged)."""
    env = dict(os.environ)
    if threads:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS"):
            env[name] = str(threads)
    return env


def measure(job: str, threads: Optional[int] = None, code: Optional[Path] = None, **kwargs) -> Dict:
    """Run one job of measure.py in a fresh Python process; return its JSON result. With `code`,
    the process imports spacy_lstm_tagger from that checkout (first on PYTHONPATH)."""
    args = {"threads": threads, **kwargs}
    env = thread_env(threads)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, str(MEASURE), job, json.dumps(args)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"measure.py {job} {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_config(system: str, directory: Path) -> Path:
    """Write the training config of one of SYSTEMS into `directory`; return its path."""
    from thinc.api import Config

    if system == "lstm_tagger":
        return ROOT / "configs" / "lstm_tagger.cfg"
    path = directory / f"{system}.cfg"
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "spacy", "init", "config", str(path), "-p", "tagger", "-l", "en",
         "-o", "efficiency", "--force"],
        cwd=ROOT, check=True, capture_output=True,
    )
    config = Config().from_disk(path, interpolate=False)
    for corpus in ("train", "dev"):
        config["corpora"][corpus]["gold_preproc"] = True
    if system == "spacy_bilstm":
        config["components"]["tok2vec"]["model"]["encode"] = dict(BILSTM_ENCODER)
    config.to_disk(path)
    return path


def spacy_train(
    config: Path, output: Path, overrides: Sequence[str] = (), minutes: Optional[float] = None,
    label: str = "", threads: Optional[int] = None,
) -> Dict:
    """Run the real `spacy train` CLI, echoing its progress; stop it after `minutes` of training.

    `threads` limits its CPU threads (OMP_NUM_THREADS etc.); None leaves the libraries' defaults.

    Returns the process's wall time, the last step, and the best step and score seen in the log.
    """
    command = [
        sys.executable, "-m", "spacy", "train", str(config), "--output", str(output),
        "--paths.train", str(TRAIN), "--paths.dev", str(DEV), *overrides,
    ]
    print(f"[{label}] $ {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=thread_env(threads), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, bufsize=1, preexec_fn=_catch_interrupts,
    )
    timer, stopped = None, threading.Event()
    steps, best_step, best_score, header = 0, 0, -1.0, []
    for line in process.stdout:
        print(f"[{label}] {line}", end="", flush=True)
        plain = ANSI.sub("", line)
        if minutes is not None and timer is None and plain.startswith("---"):
            timer = threading.Timer(minutes * 60, _interrupt, (process, stopped))
            timer.start()
        if plain.startswith("E "):
            header = plain.split()
        elif PROGRESS.match(plain):
            steps, accuracy = progress_row(header, plain)
            if accuracy > best_score:
                best_step, best_score = steps, accuracy
    returncode = process.wait()
    if timer is not None:
        timer.cancel()
    if returncode != 0 and not stopped.is_set():
        raise RuntimeError(f"spacy train failed ({returncode}): {' '.join(command)}")
    return {
        "train_seconds": time.perf_counter() - start,
        "steps": steps,
        "best_step": best_step,
        "stopped_at_time_limit": stopped.is_set(),
    }


def progress_row(header: List[str], row: str) -> Tuple[int, float]:
    """The step and TAG_ACC of a progress row, given the logger's header line split on spaces.

    TAG_ACC, not SCORE: SCORE is rounded to 2 decimals, so it ties for thousands of steps.
    Its column is found by name, as spaCy's tagger logs a POS_ACC column and ours does not;
    each two-word loss name ("LOSS TAGGER") is one column of the row.
    """
    column = header.index("TAG_ACC") - header.count("LOSS")
    fields = row.split()
    return int(fields[1]), float(fields[column])


def _catch_interrupts() -> None:
    """In the child: let Ctrl-C raise again. A shell starts background jobs with SIGINT
    ignored, which the child would inherit, and then `_interrupt` could not stop it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(process: subprocess.Popen, stopped: threading.Event) -> None:
    """Ctrl-C for `spacy train`: it then saves model-last; model-best is saved at each eval."""
    stopped.set()
    process.send_signal(signal.SIGINT)


def model_size_mb(path: Path) -> float:
    """Size on disk of all files under `path`, in MB."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A markdown table of `rows` under `header`."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def machine() -> Dict:
    """The command, the machine and the date, for the record."""
    import platform
    import shlex

    import spacy
    import torch

    return {
        "command": shlex.join(["python", os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpu": _cpu_name() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "torch": torch.__version__,
    }


def _cpu_name() -> Optional[str]:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
