"""Continued-training benchmark: train on the first half of corpus/train.spacy, then resume on the second.

python benchmarks/continued.py [--first-steps 3000] [--continue-steps 1000] [--seed 0]
    [--systems lstm_tagger spacy_cnn] [--train-threads N] [--quick] [--output DIR]

The training Docs are split by order into two halves. Each system trains with the real
`spacy train` on the first half for --first-steps steps (phase 1); then a config that sources
its trained components resumes it on the second half for --continue-steps steps (phase 2).
Every phase uses model-last, so every system has the same step counts (keep them multiples of
the configs' eval_frequency, 500 and 200, so that the log's last row is the last step).
Each phase is scored on gold-word dev Docs: all tokens, "new words" (form in the second half
but not the first) and words unseen in both halves. For reference, each system is also
trained from scratch on both halves for --first-steps + --continue-steps steps ("phase 0"):
what training on all the data reaches in as many steps. Every phase has one tag set (all tags
of the two halves), given in the [initialize] of the runs from scratch, as the second half has
tags the first lacks (EWT: XX).
"""
import argparse
import json
from pathlib import Path

from common import (
    EXPECTED_UNSEEN, ROOT, SYSTEMS, TRAIN, dev_reference, machine, markdown_table, measure, spacy_train, write_config,
)

QUICK = {"docs": 2000, "first_steps": 100, "continue_steps": 50,
         "overrides": ["--training.eval_frequency", "50", "--corpora.dev.limit", "200"]}
TAGGER_FACTORIES = ("lstm_tagger", "tagger")
HEADER = ["system", "phase", "steps", "dev tag acc (%)", "new words acc (%)", "unseen in both acc (%)",
          "train wall (min)"]
SUBSETS = ["tag_acc", "new_acc", "unseen_acc"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first-steps", type=int, default=3000, help="phase 1 steps (first half), all systems")
    parser.add_argument("--continue-steps", type=int, default=1000, help="phase 2 steps (second half), all systems")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=["lstm_tagger", "spacy_cnn"])
    parser.add_argument("--train-threads", type=int,
                        help="CPU threads for spacy train and tagging (default: the libraries' own; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: the first {QUICK['docs']:,} training Docs, {QUICK['first_steps']} + "
                             f"{QUICK['continue_steps']} steps, 200 dev Docs for spacy train's evaluations")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-continued")
    args = parser.parse_args()
    if args.quick:
        args.first_steps, args.continue_steps = QUICK["first_steps"], QUICK["continue_steps"]
        args.train_threads = args.train_threads or 1
    return args


def split_corpus(directory: Path, limit: int = 0) -> dict:
    """Write the first and second half (by Doc order) of corpus/train.spacy, or of its first
    `limit` Docs, and both together, into `directory`, and the tags of both into tags.json;
    return their paths and sizes."""
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(TRAIN).get_docs(spacy.blank("en").vocab))
    docs = docs[:limit] if limit else docs
    middle = len(docs) // 2
    directory.mkdir(parents=True, exist_ok=True)
    halves = {}
    parts = {"first": docs[:middle], "second": docs[middle:], "both": docs}
    for name, part in parts.items():
        path = directory / ("both-halves.spacy" if name == "both" else f"{name}-half.spacy")
        DocBin(docs=part).to_disk(path)
        halves[name] = {"path": str(path), "docs": len(part), "tokens": sum(map(len, part)),
                        "tags": sorted({t.tag_ for doc in part for t in doc if t.tag_})}
    tags = directory / "tags.json"  # for spacy.read_labels.v1: inline in a config, spacy train reads PRP$ as PRP$$
    tags.write_text(json.dumps(sorted({*halves["first"]["tags"], *halves["second"]["tags"]})))
    return {"corpus_docs": len(docs), **halves, "tags_file": str(tags)}


def dev_subsets(halves: dict) -> dict:
    """Gold dev tags and per-token masks: new words (in the second half, not the first), unseen in both."""
    first = dev_reference(Path(halves["first"]["path"]))
    second = dev_reference(Path(halves["second"]["path"]))
    new = [[a and not b for a, b in zip(xs, ys)] for xs, ys in zip(first["unseen"], second["unseen"])]
    unseen = [[a and b for a, b in zip(xs, ys)] for xs, ys in zip(first["unseen"], second["unseen"])]
    return {"gold": first["gold"], "new": new, "unseen": unseen, "n_tokens": first["n_tokens"],
            "n_new": sum(map(sum, new)), "n_unseen": sum(map(sum, unseen))}


def score(model: Path, reference: dict, threads) -> dict:
    """Tag accuracy (%) of `model` on gold-word dev Docs: all tokens, new words, unseen in both."""
    predicted = measure("predict", threads=threads, model=str(model))
    masks = zip(predicted, reference["gold"], reference["new"], reference["unseen"])
    rows = [(p == g, n, u) for ps, gs, ns, us in masks for p, g, n, u in zip(ps, gs, ns, us) if g]
    new = [ok for ok, n, _ in rows if n]
    unseen = [ok for ok, _, u in rows if u]
    return {"tag_acc": 100.0 * sum(ok for ok, _, _ in rows) / len(rows),
            "new_acc": 100.0 * sum(new) / max(len(new), 1),
            "unseen_acc": 100.0 * sum(unseen) / max(len(unseen), 1)}


def phase1_config(base: Path, path: Path, tags: str) -> Path:
    """Write `base` with its tagger initialized with the tags in the JSON file `tags` to `path`."""
    from thinc.api import Config

    config = Config().from_disk(base, interpolate=False)
    tagger = next(name for name in config["nlp"]["pipeline"]
                  if config["components"][name]["factory"] in TAGGER_FACTORIES)
    config["initialize"]["components"] = {tagger: {"labels": {"@readers": "spacy.read_labels.v1", "path": tags}}}
    config.to_disk(path)
    return path


def phase2_config(base: Path, path: Path, phase1_model: Path) -> Path:
    """Write `base` with every component sourced from `phase1_model` to `path`: spacy train
    then resumes them (nlp.resume_training) and initializes none of them."""
    from thinc.api import Config

    config = Config().from_disk(base, interpolate=False)
    config["components"] = {name: {"source": str(phase1_model)} for name in config["nlp"]["pipeline"]}
    config["initialize"]["components"] = {}
    config.to_disk(path)
    return path


def train_phase(system: str, phase: int, config: Path, train: str, steps: int, args) -> dict:
    """Run `spacy train` for exactly `steps` steps (no patience) on `train`; return the run's log summary."""
    overrides = ["--paths.train", train, "--training.max_steps", str(steps), "--training.patience", "0",
                 "--training.max_epochs", "0", "--system.seed", str(args.seed),
                 *(QUICK["overrides"] if args.quick else [])]
    return spacy_train(config, args.output / system / f"phase{phase}", overrides,
                       label=f"{system}-phase{phase}", threads=args.train_threads)


def run_system(system: str, split: dict, reference: dict, args) -> list:
    """Phase 1 on the first half, phase 2 resumed on the second, and "phase 0" from scratch on
    both for as many steps in all; a scored row per phase."""
    configs = args.output / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    base = write_config(system, configs)
    rows, model = [], None
    phases = ((1, "first", args.first_steps), (2, "second", args.continue_steps),
              (0, "both", args.first_steps + args.continue_steps))
    for phase, half, steps in phases:
        path = configs / f"{system}-phase{phase}.cfg"
        config = phase2_config(base, path, model) if phase == 2 else phase1_config(base, path, split["tags_file"])
        trained = train_phase(system, phase, config, split[half]["path"], steps, args)
        model = args.output / system / f"phase{phase}" / "model-last"
        rows.append({"system": system, "phase": phase, "model": str(model), **trained,
                     **score(model, reference, args.train_threads)})
        print(f"[{system}-phase{phase}] {json.dumps(rows[-1])}", flush=True)
    return rows


def gains(rows: list) -> dict:
    """Phase 2 minus phase 1 accuracy, per system and subset."""
    by_phase = {(row["system"], row["phase"]): row for row in rows}
    return {system: {key: by_phase[system, 2][key] - by_phase[system, 1][key] for key in SUBSETS}
            for system, phase in by_phase if phase == 2}


def render(result: dict) -> str:
    """The markdown report: settings, subset sizes, and a row per phase and gain."""
    table = []
    names = {1: "1: first half", 2: "2: resumed on second half", 0: "from scratch on both halves"}
    for row in result["rows"]:
        table.append([row["system"], names[row["phase"]],
                      f"{row['steps']:,}", *(f"{row[key]:.2f}" for key in SUBSETS),
                      f"{row['train_seconds'] / 60:.1f}"])
        if row["phase"] == 2:  # phase 0 comes after it
            gain = result["gains"][row["system"]]
            table.append([row["system"], "gain", "", *(f"{gain[key]:+.2f}" for key in SUBSETS), ""])
    info, split, dev = result["machine"], result["split"], result["dev"]
    return "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, "
        f"{info['date']}",
        f"Settings: {json.dumps(result['settings'])}",
        f"Training Docs: {split['corpus_docs']:,} split by order into {split['first']['docs']:,} "
        f"({split['first']['tokens']:,} tokens) + {split['second']['docs']:,} ({split['second']['tokens']:,} tokens)",
        f"Dev tokens: {dev['n_tokens']:,}; new words (form in the second half, not the first): {dev['n_new']:,}; "
        f"unseen in both halves: {dev['n_unseen']:,}",
        f"Tags only in the second half: {', '.join(result['tags_only_in_second_half']) or 'none'} "
        "(every system's tag set is both halves' tags, from phase 1's [initialize])",
        "", markdown_table(HEADER, table), "",
        *(f"- {system}: {SYSTEMS[system]}" for system in result["gains"]),
    ])


def main():
    args = parse_args()
    args.output = args.output.resolve()
    split = split_corpus(args.output / "corpus", QUICK["docs"] if args.quick else 0)
    reference = dev_subsets(split)
    print(f"New-word dev tokens: {reference['n_new']:,} of {reference['n_tokens']:,}; "
          f"unseen in both halves: {reference['n_unseen']:,}", flush=True)
    if not args.quick:  # unseen in both halves = unseen in corpus/train.spacy
        counts = (reference["n_unseen"], reference["n_tokens"])
        assert counts == EXPECTED_UNSEEN, f"expected {EXPECTED_UNSEEN} (REFERENCE.md), got {counts}"
    result = {
        "machine": machine(),
        "settings": {key: getattr(args, key)
                     for key in ("first_steps", "continue_steps", "seed", "train_threads", "quick")},
        "split": split,
        "tags_only_in_second_half": sorted(set(split["second"]["tags"]) - set(split["first"]["tags"])),
        "dev": {key: reference[key] for key in ("n_tokens", "n_new", "n_unseen")},
        "rows": [], "gains": {},
    }
    for system in args.systems:
        result["rows"] += run_system(system, split, reference, args)
        result["gains"] = gains(result["rows"])
        table = render(result)  # written after each system, so a long run keeps what it has
        (args.output / "continued.json").write_text(json.dumps(result, indent=2))
        (args.output / "continued.md").write_text(table + "\n")
    print("\n" + table)


if __name__ == "__main__":
    main()
