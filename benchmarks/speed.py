"""Speed benchmark: this plugin's tagger vs spaCy's efficiency tagger, one table with ratios.

python benchmarks/speed.py --ours training/model-best --spacy DIR [--output DIR]
python benchmarks/speed.py --quick        # trains both briefly first (a smoke test)
python benchmarks/speed.py --ours DIR --spacy DIR --gpu-only   # on a CUDA machine: GPU rows only

Every measurement runs in a fresh process with its thread setting; figures are medians. The
timed jobs (tagging, int8 tagging, training, and ours also training with float32 LSTM kernels)
take turns, one run each per round, the two systems' alternating: so a machine that slows down
for a while slows both alike, and the ratios hold.
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import torch

from common import (
    QUICK_OVERRIDES, ROOT, SYSTEMS, dev_reference, evaluate, machine, markdown_table, measure,
    model_size_mb, spacy_train, write_config,
)

OURS, SPACY = "lstm_tagger", "spacy_cnn"
def float32_training(model: Path) -> dict:
    """The config override that trains ours with float32 LSTM kernels: `cpu_bfloat16` set to
    false, in the model block (v1, v2) or in its encoder (v3)."""
    from spacy.util import load_config

    block = load_config(model / "config.cfg")["components"]["lstm_tagger"]["model"]
    return {f"components.lstm_tagger.model.{'encoder.' if 'encoder' in block else ''}cpu_bfloat16": False}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", type=Path, help="trained lstm_tagger pipeline (default config)")
    parser.add_argument("--spacy", type=Path, help="trained spaCy efficiency tagger pipeline")
    parser.add_argument("--quick", action="store_true", help="train both briefly; fewer, smaller runs")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-speed")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, help="timed runs per measurement (default 5, quick 3)")
    parser.add_argument("--stream-tokens", type=int, help="memory stream (default 1,000,000; quick 50,000)")
    parser.add_argument("--long-docs", type=int, nargs=2, help="Doc sizes (default 10000 100000; quick 2000 20000)")
    parser.add_argument("--train-steps", type=int, help="updates per timed run (default 30, quick 5)")
    parser.add_argument("--train-batch-words", type=int, default=1000)
    parser.add_argument("--gpu-only", action="store_true", help="skip the CPU measurements (needs CUDA)")
    args = parser.parse_args()
    if not args.quick and not (args.ours and args.spacy):
        parser.error("give --ours and --spacy, or --quick")
    if args.gpu_only and not torch.cuda.is_available():
        parser.error("--gpu-only: no CUDA GPU")
    defaults = (3, 50_000, [2_000, 20_000], 5) if args.quick else (5, 1_000_000, [10_000, 100_000], 30)
    for name, default in zip(("repeats", "stream_tokens", "long_docs", "train_steps"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


def models(args) -> dict:
    """{system: model dir}: the given ones, or (with --quick) briefly trained ones."""
    given = {OURS: args.ours, SPACY: args.spacy}
    for system, path in given.items():
        if path is None:
            config = write_config(system, args.output / "configs")
            spacy_train(config, args.output / system, QUICK_OVERRIDES, label=system, threads=1)
            given[system] = args.output / system / "model-best"
    return {system: Path(path).resolve() for system, path in given.items()}


def write_int8(model: Path, args, reference) -> dict:
    """Our pipeline with quantize = true, written by `python -m spacy lstm-tagger quantize`: its
    path, accuracy and size."""
    int8_model = args.output / "lstm_tagger_int8"
    shutil.rmtree(int8_model, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "spacy", "lstm-tagger", "quantize", str(model), str(int8_model)],
                   check=True, capture_output=True)
    return {"model": str(int8_model), **evaluate(int8_model, reference), "size_mb": model_size_mb(int8_model)}


def measure_untimed(model: Path, args, reference) -> dict:
    """One pipeline's accuracy, size, memory and long Docs (and GPU speed, on a GPU machine)."""
    result = {"model": str(model), **evaluate(model, reference), "size_mb": model_size_mb(model)}
    if torch.cuda.is_available():
        result["gpu"] = measure_gpu(model, args, _train_args(model, args))
    if args.gpu_only:
        return result
    print(f"  memory over a {args.stream_tokens:,}-token stream; long Docs", flush=True)
    result["stream"] = measure("stream_memory", 1, model=str(model), tokens=args.stream_tokens)
    result["long_doc"] = measure("long_doc", 1, model=str(model), sizes=args.long_docs,
                                 repeats=max(1, args.repeats // 2))
    return result


def measure_timed(results: dict, args) -> None:
    """Tagging (float and int8) and training words/s at each thread setting, into `results`:
    `args.repeats` rounds, each job one timed run per round, the systems alternating."""
    jobs = []  # (result dict, key, job, threads, kwargs)
    for threads in args.threads:
        for system in (OURS, SPACY):
            model = args.models[system]
            jobs.append((results[system], f"tag_{threads}", "tag_speed", threads, dict(model=str(model))))
            if system == OURS:
                int8 = results[OURS]["int8"]
                jobs.append((int8, f"tag_{threads}", "tag_speed", threads, dict(model=int8["model"])))
            jobs.append((results[system], f"train_{threads}", "train_speed", threads, _train_args(model, args)))
            if system == OURS:  # and training without bfloat16 kernels, for comparison
                float32 = results[OURS].setdefault("float32", {})
                jobs.append((float32, f"train_{threads}", "train_speed", threads,
                             {**_train_args(model, args), "config": float32_training(model)}))
    runs = [[] for _ in jobs]
    for round_ in range(args.repeats):
        print(f"  timed round {round_ + 1} of {args.repeats}", flush=True)
        for (_, _, name, threads, kwargs), job_runs in zip(jobs, runs):
            job_runs.append(measure(name, threads, **{**kwargs, "repeats": 1})["median"])
    for (result, key, *_), job_runs in zip(jobs, runs):
        result[key] = {"words_per_second": job_runs, "median": statistics.median(job_runs)}


def _train_args(model: Path, args) -> dict:
    return dict(model=str(model), steps=args.train_steps, repeats=args.repeats, batch_words=args.train_batch_words,
                train_limit=2000 if args.quick else 0)


def measure_gpu(model: Path, args, train_args) -> dict:
    """GPU tagging at batch 2048 and GPU training; an error string where one fails (e.g. no CuPy)."""
    print("  GPU tagging and training", flush=True)
    result = {}
    for name, job, kwargs in (
        ("tag", "tag_speed", dict(model=str(model), repeats=args.repeats, batch_size=2048, passes=10)),
        ("train", "train_speed", {**train_args, "steps": args.train_steps * 4}),
    ):
        try:
            result[name] = measure(job, gpu=True, **kwargs)
        except RuntimeError as error:
            result[name] = {"error": str(error).splitlines()[-1]}
    return result


def table_rows(results: dict, args) -> list:
    """(metric, ours, spaCy) rows; each value a number or None."""
    small, large = args.long_docs
    rows = [("dev tag acc (%)", lambda r: r["tag_acc"])]
    for t in args.threads:
        rows.append((f"CPU tagging words/s, {_threads(t)}", lambda r, t=t: r[f"tag_{t}"]["median"]))
    for t in args.threads:
        rows.append((f"CPU tagging words/s, {_threads(t)}, ours int8", lambda r, t=t: r.get("int8", r)[f"tag_{t}"]["median"]))
    rows += [
        ("dev tag acc (%), ours int8", lambda r: r.get("int8", r)["tag_acc"]),
        ("dev tag acc change, int8 - float (points)", lambda r: r["int8"]["tag_acc"] - r["tag_acc"]),
        ("model size on disk (MB), ours int8", lambda r: r.get("int8", r)["size_mb"]),
    ]
    for t in args.threads:
        rows.append((f"CPU training words/s, {_threads(t)}", lambda r, t=t: r[f"train_{t}"]["median"]))
    for t in args.threads:
        rows.append((f"CPU training words/s, {_threads(t)}, ours with cpu_bfloat16 = false",
                     lambda r, t=t: r.get("float32", r)[f"train_{t}"]["median"]))
    rows += [
        ("RSS before tagging (MB)", lambda r: r["stream"]["baseline_mb"]),
        (f"RSS after first {args.stream_tokens // 10:,} tokens (MB)", lambda r: r["stream"]["checkpoint_mb"]),
        (f"RSS after {args.stream_tokens:,} tokens (MB)", lambda r: r["stream"]["end_mb"]),
        (f"peak RSS over {args.stream_tokens:,} tokens (MB)", lambda r: r["stream"]["peak_mb"]),
        ("model size on disk (MB)", lambda r: r["size_mb"]),
        (f"one {small:,}-token Doc (s)", lambda r: r["long_doc"][str(small)]["seconds"]),
        (f"one {large:,}-token Doc (s)", lambda r: r["long_doc"][str(large)]["seconds"]),
        (f"time ratio {large:,} / {small:,} tokens", lambda r: _long_ratio(r, small, large)),
        (f"one {large:,}-token Doc: tag acc (%)", lambda r: r["long_doc"][str(large)]["tag_acc"]),
        (f"one {large:,}-token Doc: peak RSS growth (MB)",
         lambda r: r["long_doc"][str(large)]["peak_mb"] - r["long_doc"][str(large)]["rss_before_mb"]),
        ("GPU tagging words/s, batch 2048", lambda r: r["gpu"]["tag"]["median"]),
        ("GPU training words/s", lambda r: r["gpu"]["train"]["median"]),
    ]
    table = []
    for metric, get in rows:
        ours, theirs = _get(get, results[OURS]), _get(get, results[SPACY])
        if ours is None and theirs is None:
            continue  # e.g. the GPU rows on a CPU machine
        ratio = ours / theirs if ours is not None and theirs else None
        table.append({"metric": metric, OURS: ours, SPACY: theirs, "ratio": ratio})
    return table


def _threads(n: int) -> str:
    return f"{n} thread{'s' if n > 1 else ''}"


def _get(get, result):
    try:
        return get(result)
    except KeyError:
        return None


def _long_ratio(result, small, large):
    return result["long_doc"][str(large)]["seconds"] / result["long_doc"][str(small)]["seconds"]


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def render(table, results, info, args) -> str:
    rows = [[row["metric"], _fmt(row[OURS]), _fmt(row[SPACY]), _fmt(row["ratio"])] for row in table]
    errors = [f"GPU {name} failed for {system}: {job['error']}" for system, result in results.items()
              for name, job in result.get("gpu", {}).items() if "error" in job]
    return "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), GPU: {info['gpu'] or 'none'}, spaCy {info['spacy']}, "
        f"torch {info['torch']}, {info['date']}",
        f"Medians of {args.repeats} runs{' (quick mode: a smoke test, not a result)' if args.quick else ''}", "",
        markdown_table(["metric", f"ours ({OURS})", f"spaCy ({SPACY})", "ours / spaCy"], rows),
        *errors,
    ])


def main():
    args = parse_args()
    args.output = args.output.resolve()
    args.output.mkdir(parents=True, exist_ok=True)
    reference = dev_reference()
    results = {}
    args.models = models(args)
    for system, model in args.models.items():
        print(f"Measuring {system}: {model}", flush=True)
        results[system] = measure_untimed(model, args, reference)
    results[OURS]["int8"] = write_int8(args.models[OURS], args, reference)
    if not args.gpu_only:
        measure_timed(results, args)
    info = machine()
    table = table_rows(results, args)
    text = render(table, results, info, args)
    settings = {k: v for k, v in vars(args).items() if k not in ("ours", "spacy", "output", "models")}
    output = {"machine": info, "systems": {s: SYSTEMS[s] for s in results}, "settings": settings,
              "table": table, "results": results}
    (args.output / "speed.json").write_text(json.dumps(output, indent=2))
    (args.output / "speed.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
