"""Latency benchmark: one Doc at a time, and small batches, against spaCy's efficiency tagger.

python benchmarks/latency.py --ours training/model-best --spacy DIR [--output DIR]
python benchmarks/latency.py --quick        # trains both briefly first (a smoke test)

A web service calls nlp(text) once a request. Here each of the first --docs gold-word dev Docs
is tagged alone (median and 99th percentile per Doc), then the same Docs go through nlp.pipe at
each batch size; each pass loads the pipeline afresh, so that none finds the words of another in a
cache. At 1 thread; ours in float32 and with quantize = true (int8). Every run is a
fresh process, and the systems take turns, one run each per round; figures are medians over the
rounds. It also checks that ours gives the same tags at every batch size. With --seen-types N,
each run first tags N made-up words, as a service that has run a while has seen many words.
"""
import argparse
import json
import statistics
from pathlib import Path

from common import ROOT, machine, markdown_table, measure
from speed import models as trained_models

OURS, INT8, SPACY = "lstm_tagger", "lstm_tagger int8", "spacy_cnn"
QUANTIZE = {"components.lstm_tagger.quantize": True}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", type=Path, help="trained lstm_tagger pipeline (default config)")
    parser.add_argument("--spacy", type=Path, help="trained spaCy efficiency tagger pipeline")
    parser.add_argument("--quick", action="store_true", help="train both briefly; fewer Docs and rounds")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-latency")
    parser.add_argument("--docs", type=int, help="dev Docs tagged (default 1200, quick 200)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32, 256])
    parser.add_argument("--rounds", type=int, help="runs per system (default 5, quick 2)")
    parser.add_argument("--seen-types", type=int, default=0,
                        help="made-up words tagged before the timing (default 0)")
    args = parser.parse_args()
    if not args.quick and not (args.ours and args.spacy):
        parser.error("give --ours and --spacy, or --quick")
    args.docs = args.docs or (200 if args.quick else 1200)
    args.rounds = args.rounds or (2 if args.quick else 5)
    return args


def models(args) -> dict:
    """{system: (model dir, spacy.load config overrides)}; with --quick, briefly trained models
    (speed.py's `models`)."""
    paths = {system: str(path) for system, path in trained_models(args).items()}
    return {OURS: (paths[OURS], {}), INT8: (paths[OURS], QUANTIZE), SPACY: (paths[SPACY], {})}


def run_rounds(systems: dict, args) -> dict:
    """{system: [one result per round]}, the systems taking turns within each round."""
    runs = {system: [] for system in systems}
    for round_ in range(args.rounds):
        print(f"  round {round_ + 1} of {args.rounds}", flush=True)
        for system, (model, config) in systems.items():
            runs[system].append(measure("latency", 1, model=model, config=config, n_docs=args.docs,
                                        batch_sizes=args.batch_sizes, seen_types=args.seen_types))
    return runs


def summarize(runs: list, batch_sizes) -> dict:
    """Medians over the rounds; whether every batch size gave the same tags in every round."""
    tags = {digest for run in runs for digest in run["tags"].values()}
    return {
        "median_ms": statistics.median(run["median_ms"] for run in runs),
        "p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "words_per_second": {str(b): statistics.median(run["words_per_second"][str(b)] for run in runs)
                             for b in batch_sizes},
        "same_tags_at_every_batch_size": len(tags) == 1,
        "n_docs": runs[0]["n_docs"], "n_words": runs[0]["n_words"],
    }


def render(summary: dict, info: dict, args) -> str:
    def fmt(value: float) -> str:
        return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"

    def ratio(system: str, get) -> str:
        return f"{get(summary[system]) / get(summary[SPACY]):.2f}"

    rows = [["per Doc, median (ms)", *(fmt(summary[s]["median_ms"]) for s in (OURS, INT8, SPACY)),
             ratio(OURS, lambda r: r["median_ms"]), ratio(INT8, lambda r: r["median_ms"])],
            ["per Doc, 99th percentile (ms)", *(fmt(summary[s]["p99_ms"]) for s in (OURS, INT8, SPACY)),
             ratio(OURS, lambda r: r["p99_ms"]), ratio(INT8, lambda r: r["p99_ms"])]]
    for b in args.batch_sizes:
        get = (lambda r, b=b: r["words_per_second"][str(b)])
        rows.append([f"words/s, batch size {b}", *(fmt(get(summary[s])) for s in (OURS, INT8, SPACY)),
                     ratio(OURS, get), ratio(INT8, get)])
    same = {s: summary[s]["same_tags_at_every_batch_size"] for s in (OURS, INT8)}
    return "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, "
        f"{info['date']}; 1 thread",
        f"{summary[OURS]['n_docs']:,} dev Docs ({summary[OURS]['n_words']:,} words), medians of {args.rounds} "
        f"rounds{' (quick mode: a smoke test, not a result)' if args.quick else ''}"
        f"{f', after {args.seen_types:,} made-up words' if args.seen_types else ''}", "",
        markdown_table(["", "ours, float", "ours, int8", "spaCy's tagger", "float / spaCy", "int8 / spaCy"], rows),
        "", "Times: a ratio below 1 is faster; words/s: above 1 is faster.",
        f"Same tags at every batch size: float {'yes' if same[OURS] else 'NO'}, int8 {'yes' if same[INT8] else 'NO'}",
    ])


def main():
    args = parse_args()
    args.output = args.output.resolve()
    args.output.mkdir(parents=True, exist_ok=True)
    systems = models(args)
    runs = run_rounds(systems, args)
    summary = {system: summarize(system_runs, args.batch_sizes) for system, system_runs in runs.items()}
    info = machine()
    text = render(summary, info, args)
    settings = {k: v for k, v in vars(args).items() if k not in ("ours", "spacy", "output")}
    output = {"machine": info, "models": {s: m for s, (m, _) in systems.items()}, "settings": settings,
              "summary": summary, "runs": runs}
    (args.output / "latency.json").write_text(json.dumps(output, indent=2))
    (args.output / "latency.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
