"""Pretraining benchmark: `spacy pretrain` on raw text, then `spacy train` from it, against no
pretraining, with little labelled data and with all of it.

python benchmarks/pretraining.py [--raw-text ../shared/corpora/raw] [--objectives bilm characters]
    [--settings little all] [--seeds 0 1 2] [--epochs 1] [--max-steps N] [--jobs 2] [--output DIR]
python benchmarks/pretraining.py --quick    # a smoke test: 500 lines of each raw file, 100 training steps

(a) little: every 10th Doc of corpus/train.spacy is tagged (about 20,000 tokens); the raw text is
--raw-text plus the text (not the tags) of the other 90%. (b) all: all of train.spacy, with the
same raw text. Each objective pretrains once (configs/lstm_tagger_pretrain.cfg, its threads as
--pretrain-threads, --jobs at once), and each (setting, objective or none, seed) trains with 1
thread, --jobs at once; a run that an earlier run with the same --output finished is reused.
Dev tag accuracy and unseen-word accuracy (words the setting's tagged data never shows) come from
model-best. Without ../shared (and no --raw-text), it says so and stops.
"""
import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, TRAIN, dev_reference, evaluate, machine, markdown_table, spacy_train

RAW = ROOT.parent / "shared" / "corpora" / "raw"
CONFIG = ROOT / "configs" / "lstm_tagger_pretrain.cfg"
OBJECTIVES = {
    "bilm": None,  # the config's own: spacy_lstm_tagger.PretrainBiLM.v1
    "characters": {"@architectures": "spacy.PretrainCharacters.v1", "maxout_pieces": 3, "hidden_size": 300,
                   "n_characters": 4},
}
QUICK_RAW_LINES = 500
QUICK_TRAINING = ["--training.max_steps", "100", "--training.eval_frequency", "50", "--corpora.dev.limit", "200"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw-text", type=Path, default=RAW, help="a JSONL file or a folder of them")
    parser.add_argument("--objectives", nargs="+", choices=list(OBJECTIVES), default=list(OBJECTIVES))
    parser.add_argument("--settings", nargs="+", choices=["little", "all"], help="default: little all (quick: little)")
    parser.add_argument("--seeds", type=int, nargs="+", help="default 0 1 2 (quick: 0)")
    parser.add_argument("--epochs", type=int, default=1, help="pretraining epochs over the raw text")
    parser.add_argument("--jobs", type=int, default=1, help="trainings at once, 1 thread each")
    parser.add_argument("--pretrain-threads", type=int, default=os.cpu_count(), help="threads of each pretraining")
    parser.add_argument("--max-steps", type=int, help="training steps of every run (default: the config's)")
    parser.add_argument("--quick", action="store_true", help="a little raw text, 100 steps: a smoke test")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-pretraining")
    args = parser.parse_args()
    args.settings = args.settings or (["little"] if args.quick else ["little", "all"])
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    return args


def prepare_data(args) -> dict:
    """The little labelled set and the raw text folder (the raw text, then the other 90% of
    train's text), written once under --output/data. {setting: .spacy path, "raw": folder,
    "raw_words": words in the raw text}."""
    import spacy
    import srsly
    from spacy.tokens import DocBin

    data = args.output / "data"
    raw = data / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    little = data / "little.spacy"
    docs = list(DocBin().from_disk(TRAIN).get_docs(spacy.blank("en").vocab))
    if not little.exists():
        DocBin(docs=docs[::10], store_user_data=False).to_disk(little)
        other = [{"text": doc.text} for i, doc in enumerate(docs) if i % 10]
        srsly.write_jsonl(raw / "train-other-90-percent.jsonl", other[:QUICK_RAW_LINES] if args.quick else other)
        for source in sorted(args.raw_text.glob("*.jsonl")) if args.raw_text.is_dir() else [args.raw_text]:
            lines = srsly.read_jsonl(source)
            if args.quick:
                lines = (line for i, line in enumerate(lines) if i < QUICK_RAW_LINES)
            srsly.write_jsonl(raw / source.name, lines)
    n_words = sum(len(str(line["text"]).split()) for path in sorted(raw.glob("*.jsonl")) for line in srsly.read_jsonl(path))
    return {"little": little, "all": TRAIN, "raw": raw, "raw_words": n_words}


def pretrain(objective: str, data: dict, args) -> dict:
    """`spacy pretrain` with one objective; its wall time and weights."""
    import subprocess

    from spacy.util import load_config

    output = args.output / "pretrain" / objective
    done = output / "pretraining.json"
    if done.exists():
        return json.loads(done.read_text())
    config = load_config(CONFIG, interpolate=False)
    if OBJECTIVES[objective] is not None:
        config["pretraining"]["objective"] = OBJECTIVES[objective]
    config_path = args.output / "configs" / f"pretrain-{objective}.cfg"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config.to_disk(config_path)
    command = [sys.executable, "-m", "spacy", "pretrain", str(config_path), str(output), "--paths.raw_text",
               str(data["raw"]), "--pretraining.max_epochs", str(args.epochs)]
    print(f"[pretrain {objective}] $ {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    from common import thread_env

    subprocess.run(command, cwd=ROOT, env=thread_env(args.pretrain_threads), check=True)
    seconds = time.perf_counter() - start
    result = {"objective": objective, "seconds": seconds, "epochs": args.epochs, "words": data["raw_words"],
              "words_per_second": data["raw_words"] * args.epochs / seconds, "weights": str(output / "model-last.bin"),
              "threads": args.pretrain_threads}
    done.write_text(json.dumps(result))
    return result


def train(setting: str, objective: str, seed: int, data: dict, weights: dict, args) -> dict:
    """`spacy train` of the pretraining config on one setting's data, from the objective's
    pretrained encoder (or none), with 1 thread."""
    name = f"{setting}-{objective}-seed{seed}"
    output = args.output / "runs" / name
    done = output / "run.json"
    if done.exists():
        return json.loads(done.read_text())
    overrides = ["--paths.train", str(data[setting]), "--system.seed", str(seed)]
    if objective != "none":
        overrides += ["--paths.init_tok2vec", weights[objective]]
    if args.max_steps:
        overrides += ["--training.max_steps", str(args.max_steps)]
    if args.quick:
        overrides += QUICK_TRAINING
    result = spacy_train(CONFIG, output, overrides, label=name, threads=1)
    run = {"name": name, "setting": setting, "objective": objective, "seed": seed, "model": str(output / "model-best"),
           **result}
    done.write_text(json.dumps(run))
    return run


def render(runs: list, pretrainings: list, info: dict) -> str:
    rows = []
    for setting in dict.fromkeys(run["setting"] for run in runs):
        baseline = None
        for objective in dict.fromkeys(run["objective"] for run in runs):
            group = [run for run in runs if run["setting"] == setting and run["objective"] == objective]
            acc = statistics.mean(run["tag_acc"] for run in group)
            baseline = acc if objective == "none" else baseline
            gain = f"{acc - baseline:+.2f}" if baseline is not None and objective != "none" else "-"
            rows.append([setting, objective, len(group), " / ".join(f"{run['tag_acc']:.2f}" for run in group),
                         f"{acc:.2f}", gain, f"{statistics.mean(run['unseen_acc'] for run in group):.2f}",
                         f"{statistics.mean(run['train_seconds'] for run in group) / 60:.1f}"])
    timing = [[p["objective"], p["epochs"], f"{p['words']:,}", p["threads"], f"{p['seconds'] / 60:.1f}",
               f"{p['words_per_second']:,.0f}"] for p in pretrainings]
    return "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, {info['date']}",
        "",
        markdown_table(["labelled data", "pretraining", "seeds", "dev tag acc per seed (%)", "mean (%)",
                        "gain over none", "unseen words acc (%)", "train wall (min)"], rows),
        "",
        markdown_table(["objective", "epochs", "raw words an epoch", "threads", "wall (min)", "words/s"], timing),
    ])


def main():
    args = parse_args()
    if not args.raw_text.exists():
        print(f"No raw text at {args.raw_text} (../shared absent?): nothing to pretrain on; skipped.")
        return
    args.output = args.output.resolve()
    args.output.mkdir(parents=True, exist_ok=True)
    data = prepare_data(args)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pretrainings = list(pool.map(lambda objective: pretrain(objective, data, args), args.objectives))
    weights = {p["objective"]: p["weights"] for p in pretrainings}
    jobs = [(setting, objective, seed) for setting in args.settings for objective in ["none", *args.objectives]
            for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(lambda job: train(*job, data, weights, args), jobs))
    references = {setting: dev_reference(data[setting]) for setting in args.settings}
    for run in runs:
        run.update(evaluate(run["model"], references[run["setting"]]))
    info = machine()
    text = render(runs, pretrainings, info)
    (args.output / "pretraining.json").write_text(json.dumps({"machine": info, "runs": runs,
                                                              "pretraining": pretrainings}, indent=2, default=str))
    (args.output / "pretraining.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
