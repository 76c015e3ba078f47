"""Tagging speed on new text: raw text that no pass before has tagged, against spaCy's tagger.

python benchmarks/new_text.py --ours training/model-best --spacy DIR [--code-before CHECKOUT] [--output DIR]

`benchmarks/speed.py` times passes over the dev set after a warm-up pass over the same Docs, so
whatever a pipeline keeps per word (our feature layer's word types, the first layer's gates) is
found again. A corpus job meets new words all along: here each run loads the pipeline afresh,
warms it up on the first --warm-docs texts of the raw corpus (../shared/corpora/raw, one JSONL
`text` a line), and times nlp.pipe over the next ones, split by each pipeline's tokenizer. At 1
thread (--threads to change it); ours in float32 and with quantize = true (int8), and, with
--code-before, ours in float32 on the code of another checkout (its folder first on PYTHONPATH),
so a change is timed against the code before it in the same run. Every run is a fresh process;
the systems take turns, one run each per round; figures are medians over the rounds.
"""
import argparse
import json
import statistics
from pathlib import Path

from common import ROOT, machine, markdown_table, measure

RAW = ROOT.parent / "shared" / "corpora" / "raw"
FILES = ["brown.jsonl", "abc.jsonl"]
WARM_DOCS, DOCS = 3000, 40000  # texts that warm a pipeline up, and texts read in all
OURS, BEFORE, INT8, SPACY = "lstm_tagger", "lstm_tagger, code before", "lstm_tagger int8", "spacy_cnn"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", type=Path, required=True, help="trained lstm_tagger pipeline")
    parser.add_argument("--spacy", type=Path, required=True, help="trained spaCy efficiency tagger pipeline")
    parser.add_argument("--code-before", type=Path, help="a checkout of this project whose code to time too")
    parser.add_argument("--raw", type=Path, default=RAW, help="folder of the raw JSONL files (default ../shared)")
    parser.add_argument("--warm-docs", type=int, default=WARM_DOCS)
    parser.add_argument("--docs", type=int, default=DOCS, help="texts read in all, warm-up included")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-new-text")
    args = parser.parse_args()
    missing = [name for name in FILES if not (args.raw / name).exists()]
    if missing:
        parser.error(f"--raw {args.raw} lacks {', '.join(missing)}")
    return args


def systems(args) -> dict:
    """{system: (model, config overrides, code folder or None)}."""
    found = {OURS: (args.ours, {}, None)}
    if args.code_before:
        found[BEFORE] = (args.ours, {}, args.code_before)
    found[INT8] = (args.ours, {"components.lstm_tagger.quantize": True}, None)
    found[SPACY] = (args.spacy, {}, None)
    return found


def main():
    args = parse_args()
    runs = {system: [] for system in systems(args)}
    files = [str(args.raw / name) for name in FILES]
    for round_ in range(args.rounds):
        print(f"  round {round_ + 1} of {args.rounds}", flush=True)
        for system, (model, config, code) in systems(args).items():
            result = measure("new_text_speed", args.threads, code=code, model=str(model), config=config, files=files,
                             warm_docs=args.warm_docs, max_docs=args.docs, batch_size=args.batch_size)
            runs[system].append(result)
    words = {system: statistics.median(run["words_per_second"] for run in results) for system, results in runs.items()}
    info = machine()
    rows = [[system, f"{words[system]:,.0f}", f"{words[system] / words[SPACY]:.2f}",
             ", ".join(f"{run['words_per_second']:,.0f}" for run in runs[system])] for system in runs]
    first = next(iter(runs.values()))[0]
    report = "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, "
        f"{info['date']}; {args.threads} thread(s), batch size {args.batch_size}, medians of {args.rounds} rounds",
        f"Timed: {first['n_docs']:,} texts of {', '.join(FILES)} ({first['n_words']:,} of our tokens), "
        f"after {args.warm_docs:,} others",
        "",
        markdown_table(["system", "words/s", "/ spaCy's", "each round"], rows),
    ])
    print(report)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "new-text.md").write_text(report + "\n")
    (args.output / "new-text.json").write_text(json.dumps({"machine": info, "args": {
        k: str(v) for k, v in vars(args).items()}, "runs": runs, "words_per_second": words}, indent=2) + "\n")


if __name__ == "__main__":
    main()
