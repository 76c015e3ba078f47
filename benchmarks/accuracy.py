"""Accuracy benchmark: train this plugin and spaCy's two taggers on corpus/, one table.

python benchmarks/accuracy.py [--budget convergence | --minutes M] [--quick] [--seeds 0 1 2]
    [--systems lstm_tagger spacy_cnn spacy_bilstm] [--train-threads N] [--output DIR]

Each system trains with the real `spacy train` on corpus/ (gold tokenization); its model-best is
scored on gold-word dev Docs, overall and on words whose form never occurs in corpus/train.spacy.
"""
import argparse
import json
import statistics
from pathlib import Path

from common import (
    EXPECTED_UNSEEN, QUICK_OVERRIDES, ROOT, SYSTEMS, dev_reference, evaluate, machine, markdown_table,
    measure, spacy_train, write_config,
)

HEADER = ["system", "seed", "dev tag acc (%)", "unseen words acc (%)", "train wall (min)",
          "tag words/s (1 thread)", "steps (best / last eval)"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--budget", choices=["convergence"], default="convergence",
                        help="each system to its config's max_steps and patience (spaCy's: 20k, 1600)")
    budget.add_argument("--minutes", type=float, help="equal wall time instead: stop each after M minutes")
    parser.add_argument("--quick", action="store_true", help="200 steps each on 2,000 training sentences, 1 thread")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds for lstm_tagger")
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=list(SYSTEMS))
    parser.add_argument("--train-threads", type=int,
                        help="CPU threads for spacy train (default: the libraries' own; 1 with --quick)")
    parser.add_argument("--repeats", type=int, default=3, help="timed tagging runs (median)")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-accuracy")
    return parser.parse_args()


def budget(args) -> tuple:
    """(description, overrides for spacy train) of the training budget."""
    quick = QUICK_OVERRIDES if args.quick else []
    if args.minutes is not None:
        text = f"equal wall time: {args.minutes:g} min of training each (no step limit, no patience)"
        return text, [*quick, "--training.max_steps", "0", "--training.patience", "0"]
    if args.quick:
        return "quick: 200 steps each, 2,000 training sentences (a smoke test, not a result)", quick
    return "to convergence: each config's max_steps and patience (spaCy's default patience 1,600)", []


def load_reference() -> dict:
    """Gold dev tags and unseen-word mask; the count is checked before any training."""
    reference = dev_reference()
    counts = (reference["n_unseen"], reference["n_tokens"])
    print(f"Unseen dev words: {counts[0]:,} of {counts[1]:,} tokens (form not in corpus/train.spacy)")
    assert counts == EXPECTED_UNSEEN, f"expected {EXPECTED_UNSEEN} (REFERENCE.md), got {counts}"
    return reference


def run_system(system: str, seed: int, args, overrides, reference) -> dict:
    """Train one system with `spacy train`, then score and time its model-best."""
    name = system if system != "lstm_tagger" or len(args.seeds) == 1 else f"{system}-seed{seed}"
    config = write_config(system, args.output / "configs")
    trained = spacy_train(config, args.output / name, [*overrides, "--system.seed", str(seed)],
                          minutes=args.minutes, label=name, threads=args.train_threads)
    best = args.output / name / "model-best"
    model = str(best if best.exists() else args.output / name / "model-last")  # stopped before an eval
    scores = evaluate(model, reference)
    speed = measure("tag_speed", threads=1, model=model, repeats=args.repeats)
    row = {"system": system, "seed": seed, "model": model, **trained, **scores,
           "tag_words_per_second": speed["median"], "tag_words_per_second_runs": speed["words_per_second"]}
    print(f"[{name}] {json.dumps(row)}", flush=True)
    return row


def seed_summary(rows) -> dict:
    """Mean, standard deviation and range of lstm_tagger's dev accuracy over seeds."""
    accs = [row["tag_acc"] for row in rows if row["system"] == "lstm_tagger"]
    unseen = [row["unseen_acc"] for row in rows if row["system"] == "lstm_tagger"]
    if len(accs) < 2:
        return {}
    return {"seeds": [row["seed"] for row in rows if row["system"] == "lstm_tagger"],
            "tag_acc_mean": statistics.mean(accs), "tag_acc_stdev": statistics.stdev(accs),
            "tag_acc_min": min(accs), "tag_acc_max": max(accs),
            "unseen_acc_mean": statistics.mean(unseen), "unseen_acc_stdev": statistics.stdev(unseen)}


def render(result) -> str:
    rows = [[row["system"], row["seed"], f"{row['tag_acc']:.2f}", f"{row['unseen_acc']:.1f}",
             f"{row['train_seconds'] / 60:.1f}", f"{row['tag_words_per_second']:,.0f}",
             f"{row['best_step']:,} / {row['steps']:,}"] for row in result["rows"]]
    info = result["machine"]
    lines = [f"Command: `{info['command']}`", f"Budget: {result['budget']}",
             f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, "
             f"{info['date']}",
             f"Unseen dev words: {result['unseen'][0]:,} of {result['unseen'][1]:,}", "",
             markdown_table(HEADER, rows), "",
             *(f"- {system}: {SYSTEMS[system]}" for system in dict.fromkeys(r["system"] for r in result["rows"]))]
    summary = result["seed_summary"]
    if summary:
        lines += ["", f"lstm_tagger over seeds {summary['seeds']}: dev {summary['tag_acc_mean']:.2f} "
                  f"± {summary['tag_acc_stdev']:.2f} (min {summary['tag_acc_min']:.2f}, max "
                  f"{summary['tag_acc_max']:.2f}); unseen {summary['unseen_acc_mean']:.1f} "
                  f"± {summary['unseen_acc_stdev']:.1f} (mean ± standard deviation)"]
    return "\n".join(lines)


def main():
    args = parse_args()
    args.output = args.output.resolve()
    args.output.mkdir(parents=True, exist_ok=True)
    if args.quick and args.train_threads is None:
        args.train_threads = 1
    reference = load_reference()
    description, overrides = budget(args)
    description += f"; spacy train threads: {args.train_threads or 'library defaults'}"
    print(f"Budget: {description}", flush=True)
    result = {"budget": description, "machine": machine(), "systems": SYSTEMS, "rows": [],
              "unseen": [reference["n_unseen"], reference["n_tokens"]], "seed_summary": {}}
    for system in args.systems:
        for seed in args.seeds if system == "lstm_tagger" else [0]:
            result["rows"].append(run_system(system, seed, args, overrides, reference))
            result["seed_summary"] = seed_summary(result["rows"])
            table = render(result)  # written after each system, so a long run keeps what it has
            (args.output / "accuracy.json").write_text(json.dumps(result, indent=2))
            (args.output / "accuracy.md").write_text(table + "\n")
    print("\n" + table)


if __name__ == "__main__":
    main()
