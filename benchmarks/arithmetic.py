"""Arithmetic benchmark: how much each tagger multiplies per token, and how fast each runs it.

python benchmarks/arithmetic.py --ours training/model-best --spacy DIR [--output DIR]

A tagger's multiply-adds per token times its words/s is the rate at which it runs its
arithmetic. This script counts each model's multiply-adds per token (as it tags on a CPU in
float32), times both on new text as benchmarks/new_text.py does (nlp.pipe at batch size 256, 1
thread, fresh processes taking turns), and times this CPU's own float32 matrix product at 1
thread, the most any model's products can reach here. From those it gives the rate ours would
need to tag a given number of times as fast as spaCy's tagger, as a share of that ceiling.
"""
import argparse
import json
import statistics
from pathlib import Path

from common import ROOT, machine, markdown_table, measure
from new_text import DOCS, FILES, RAW, WARM_DOCS

OURS, SPACY = "lstm_tagger", "spacy_cnn"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", type=Path, required=True, help="trained lstm_tagger pipeline")
    parser.add_argument("--spacy", type=Path, required=True, help="trained spaCy efficiency tagger pipeline")
    parser.add_argument("--rounds", type=int, default=3, help="runs per system (default 3)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--targets", type=float, nargs="+", default=[1.0, 1.5],
                        help="words/s ratios against spaCy's tagger to give the needed rate for")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-arithmetic")
    args = parser.parse_args()
    missing = [name for name in FILES if not (RAW / name).exists()]
    if missing:
        parser.error(f"the raw text {RAW} lacks {', '.join(missing)}")
    return args


def main():
    args = parse_args()
    models = {OURS: str(args.ours), SPACY: str(args.spacy)}
    counts = {system: measure("multiply_adds", model=model) for system, model in models.items()}
    per_token = {system: sum(count.values()) for system, count in counts.items()}
    speeds = {system: [] for system in models}
    ceiling = []
    for round_ in range(args.rounds):
        print(f"  round {round_ + 1} of {args.rounds}", flush=True)
        for system, model in models.items():
            speeds[system].append(measure("new_text_speed", 1, model=model, files=[str(RAW / name) for name in FILES],
                                          warm_docs=WARM_DOCS, max_docs=DOCS,
                                          batch_size=args.batch_size)["words_per_second"])
        ceiling.append(measure("matmul_rate", 1)["multiply_adds_per_second"])
    words = {system: statistics.median(runs) for system, runs in speeds.items()}
    peak = statistics.median(ceiling)
    result = {"machine": machine(), "multiply_adds": counts, "per_token": per_token, "words_per_second": words,
              "runs": speeds, "matmul_rate": peak, "matmul_runs": ceiling}
    report = render(result, args)
    print(report)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "arithmetic.md").write_text(report + "\n")
    (args.output / "arithmetic.json").write_text(json.dumps(result, indent=2) + "\n")


def render(result: dict, args) -> str:
    info, per_token, words, peak = result["machine"], result["per_token"], result["words_per_second"], \
        result["matmul_rate"]
    rows = [[system, f"{per_token[system]:,}", ", ".join(f"{k} {v:,}" for k, v in result["multiply_adds"][system].items()),
             f"{words[system]:,.0f}", f"{per_token[system] * words[system] / 1e9:.1f}",
             f"{100 * per_token[system] * words[system] / peak:.0f}%"] for system in (OURS, SPACY)]
    table = markdown_table(["system", "multiply-adds per token", "of which", f"words/s, batch size {args.batch_size}",
                            "G multiply-adds/s", "of the CPU's matrix product"], rows)
    needed = [[f"{target:.1f}x spaCy's words/s ({target * words[SPACY]:,.0f})",
               f"{target * words[SPACY] * per_token[OURS] / 1e9:.1f}",
               f"{100 * target * words[SPACY] * per_token[OURS] / peak:.0f}%"] for target in args.targets]
    needed_table = markdown_table(["ours would need", "G multiply-adds/s", "of the CPU's matrix product"], needed)
    return "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, "
        f"{info['date']}; 1 thread, new text ({', '.join(FILES)}), medians of {args.rounds} rounds",
        "",
        table,
        "",
        f"This CPU's float32 matrix product (1024 x 1024 x 1024, torch, 1 thread): {peak / 1e9:.1f} G multiply-adds/s.",
        "",
        needed_table,
    ])


if __name__ == "__main__":
    main()
