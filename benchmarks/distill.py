"""Distillation benchmark: teachers, their ensemble, and students distilled from them.

python benchmarks/distill.py --teachers T0 T1 T2 [--raw-text ../shared/corpora/raw] [--spacy DIR]
    [--seeds 0 1 2] [--jobs 2] [--configs default small | pretrained --init-tok2vec W] [--output DIR]
python benchmarks/distill.py --quick        # trains 3 small teachers briefly first (a smoke test)

Scores on the gold-word dev set: each teacher; the ensemble (the teachers' averaged probabilities);
students of each config in --configs (default and small; or pretrained, a default-size student that
starts from --init-tok2vec's `spacy pretrain` weights), one per seed, trained with `python -m spacy
lstm-tagger distill` on the gold data and the raw text, with dropout 0.15 (the small config's own;
STUDENT_OVERRIDES for the others); with default, one default student without the raw text. Then tagging
words/s at 1 thread of a teacher and each student (and spaCy's tagger, with --spacy), the systems
taking turns; and the wall time of each step. Each student trains with 1 thread; --jobs trains that
many at once; a student that an earlier run with the same --output trained is reused. Without the
raw text (a missing ../shared), the students learn from the gold data alone, and the table says so.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy

from common import (
    DEV, QUICK_OVERRIDES, ROOT, TRAIN, dev_reference, evaluate, gold_docs, machine, markdown_table, measure,
    spacy_train, thread_env,
)

RAW = ROOT.parent / "shared" / "corpora" / "raw"
CONFIGS = {"default": ROOT / "configs" / "lstm_tagger.cfg", "small": ROOT / "configs" / "lstm_tagger_small.cfg",
           "pretrained": ROOT / "configs" / "lstm_tagger_pretrain.cfg"}
# A default-size student trains with dropout 0.15 where its teachers had the config's 0.25: it scored higher
# so (docs/distillation.md). The small config sets 0.15 itself. A "pretrained" student is a default-size
# one (the pretraining config) that starts from --init-tok2vec's encoder.
STUDENT_OVERRIDES = {"default": ["--training.dropout", "0.15"], "small": [],
                     "pretrained": ["--training.dropout", "0.15"]}
QUICK_RAW_LIMIT = 2000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=Path, nargs="+", help="trained default pipelines (seeds 0, 1, 2)")
    parser.add_argument("--raw-text", type=Path, default=RAW, help="JSONL file or folder (default: ../shared)")
    parser.add_argument("--spacy", type=Path, help="a trained spaCy tagger, for the speed rows")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=["default", "small"])
    parser.add_argument("--init-tok2vec", type=Path, help="`spacy pretrain` weights, for --configs pretrained")
    parser.add_argument("--seeds", type=int, nargs="+", help="student seeds (default 0 1 2; quick 0)")
    parser.add_argument("--jobs", type=int, default=1, help="students trained at once, 1 thread each")
    parser.add_argument("--repeats", type=int, help="timed tagging rounds (default 3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="small teachers and students, 200 steps each")
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-distill")
    args = parser.parse_args()
    if not args.quick and not args.teachers:
        parser.error("give --teachers, or --quick")
    if ("pretrained" in args.configs) != bool(args.init_tok2vec):
        parser.error("--configs pretrained and --init-tok2vec go together")
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.raw_text = args.raw_text if args.raw_text and args.raw_text.exists() else None
    return args


def quick_teachers(args, times: dict) -> list:
    """Three teachers of the default config, 200 steps each on 2,000 sentences."""
    paths = []
    for seed in range(3):
        start = time.perf_counter()
        spacy_train(CONFIGS["default"], args.output / f"teacher{seed}", [*QUICK_OVERRIDES, "--system.seed", str(seed)],
                    label=f"teacher{seed}", threads=1)
        times[f"teacher {seed} training"] = time.perf_counter() - start
        paths.append(args.output / f"teacher{seed}" / "model-best")
    return paths


def ensemble_scores(teachers: list, reference: dict) -> dict:
    """Dev accuracy of the teachers' averaged probabilities (argmax), overall and on unseen words."""
    import spacy

    from spacy_lstm_tagger.distill.targets import teacher_targets

    docs, _ = gold_docs(spacy.blank("en").vocab, DEV)
    targets = teacher_targets([spacy.load(path) for path in teachers], docs)
    predicted = numpy.asarray(targets.labels)[targets.probabilities.argmax(axis=1)]
    gold = [tag for tags in reference["gold"] for tag in tags]
    unseen = [u for flags in reference["unseen"] for u in flags]
    pairs = [(p == g, u) for p, g, u in zip(predicted, gold, unseen) if g]
    n_unseen = sum(u for _, u in pairs)
    return {"tag_acc": 100.0 * sum(ok for ok, _ in pairs) / len(pairs),
            "unseen_acc": 100.0 * sum(ok for ok, u in pairs if u) / max(n_unseen, 1)}


def warm_cache(teachers: list, args, cache: Path) -> float:
    """Tag the training Docs and the raw text with the teachers once, into the shared cache,
    as the students' reader will read them; the seconds it took."""
    import spacy

    from spacy_lstm_tagger.distill.reader import create_distillation_corpus

    start = time.perf_counter()
    corpus = create_distillation_corpus(TRAIN, [str(t) for t in teachers], cache,
                                        raw_text=[str(args.raw_text)] if args.raw_text else [],
                                        limit=2000 if args.quick else 0, raw_limit=QUICK_RAW_LIMIT if args.quick else 0)
    n_words = sum(len(eg.predicted) for eg in corpus(spacy.blank("en")))
    print(f"Teachers' probabilities cached in {cache} ({n_words:,} words an epoch, the training Docs repeated)", flush=True)
    return time.perf_counter() - start


def train_student(name: str, config: str, seed: int, raw: bool, teachers: list, cache: Path, args) -> dict:
    """`distill` one student of a config in CONFIGS with 1 thread; its wall time and model-best."""
    output = args.output / "students" / name
    command = [sys.executable, "-m", "spacy", "lstm-tagger", "distill", str(CONFIGS[config]), str(output),
               "--cache", str(cache), "--paths.train", str(TRAIN), "--paths.dev", str(DEV), "--system.seed", str(seed),
               *STUDENT_OVERRIDES[config]]
    if config == "pretrained":
        command += ["--paths.init_tok2vec", str(args.init_tok2vec.resolve())]
    for teacher in teachers:
        command += ["--teacher", str(teacher)]
    if raw and args.raw_text:
        command += ["--raw-text", str(args.raw_text)]
        if args.quick:
            command += ["--corpora.train.raw_limit", str(QUICK_RAW_LIMIT)]
    if args.quick:
        command += QUICK_OVERRIDES
    done = output / "student.json"
    if done.exists():  # trained by an earlier run of this benchmark with the same --output
        return json.loads(done.read_text())
    output.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] training", flush=True)
    start = time.perf_counter()
    with open(output.parent / f"{name}.log", "w") as log:
        result = subprocess.run(command, cwd=ROOT, env=thread_env(1), stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"distill failed for {name}; see {output.parent / f'{name}.log'}")
    student = {"name": name, "seed": seed, "raw_text": raw and bool(args.raw_text), "model": str(output / "model-best"),
               "train_seconds": time.perf_counter() - start}
    done.write_text(json.dumps(student))
    return student


def student_ece(model: str) -> float:
    """Dev ECE (%) of the student's probabilities, with the temperature its training fitted."""
    import spacy

    from spacy_lstm_tagger.pipeline.calibration import gold_probabilities, read_gold_docs
    from spacy_lstm_tagger.pipeline.confidence import calibration_summary
    from spacy_lstm_tagger.pipeline.temperature import TEMPERATURE, apply_temperature

    nlp = spacy.load(model)
    probabilities, gold = gold_probabilities(nlp, "lstm_tagger", read_gold_docs(DEV, nlp))
    temperature = nlp.get_pipe("lstm_tagger").cfg.get(TEMPERATURE)
    if temperature is not None:
        probabilities = apply_temperature(probabilities, temperature)
    return 100 * calibration_summary(probabilities.max(axis=1), probabilities.argmax(axis=1) == gold)["ece"]


def tagging_speeds(models: dict, args) -> dict:
    """{name: median words/s at 1 thread}, the models taking turns, one run each per round."""
    runs = {name: [] for name in models}
    for round_ in range(args.repeats):
        for name, model in models.items():
            runs[name].append(measure("tag_speed", 1, model=str(model), repeats=1)["median"])
    return {name: statistics.median(values) for name, values in runs.items()}


def mean(values) -> float:
    return sum(values) / len(values)


def render(rows: list, times: dict, info: dict, args) -> str:
    table = [[row["system"], f"{row['tag_acc']:.2f}", f"{row['unseen_acc']:.2f}",
              f"{row['words_per_second']:,.0f}" if row.get("words_per_second") else "-",
              f"{row['ece']:.2f}" if row.get("ece") is not None else "-",
              f"{row['train_seconds'] / 60:.1f}" if row.get("train_seconds") else "-"] for row in rows]
    steps = [[step, f"{seconds / 60:.1f}"] for step, seconds in times.items()]
    raw = f"raw text: {args.raw_text}" if args.raw_text else "NO raw text (../shared absent): gold data only"
    return "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, {info['date']}",
        f"{raw}{'; quick mode: a smoke test, not a result' if args.quick else ''}", "",
        markdown_table(["system", "dev tag acc (%)", "unseen words acc (%)", "tag words/s (1 thread)",
                        "dev ECE (%)", "train wall (min)"], table),
        "", markdown_table(["step", "wall (min)"], steps),
    ])


def main():
    args = parse_args()
    args.output = args.output.resolve()
    args.output.mkdir(parents=True, exist_ok=True)
    reference = dev_reference()
    times = {}
    teachers = [Path(t).resolve() for t in args.teachers] if args.teachers else quick_teachers(args, times)
    rows = [{"system": f"teacher {i}", "model": str(t), **evaluate(t, reference)} for i, t in enumerate(teachers)]
    start = time.perf_counter()
    rows.append({"system": f"ensemble of {len(teachers)} (averaged probabilities)", **ensemble_scores(teachers, reference)})
    times["ensemble scoring"] = time.perf_counter() - start
    cache = args.output / "teacher-cache"
    times["tagging the training data and raw text with the teachers"] = warm_cache(teachers, args, cache)
    jobs = [(f"{config}-seed{seed}", config, seed, True) for seed in args.seeds for config in args.configs]
    if "default" in args.configs:
        jobs.insert(min(2, len(jobs)), ("default-gold-only-seed0", "default", 0, False))
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        students = list(pool.map(lambda job: train_student(*job, teachers, cache, args), jobs))
    for student in students:
        times[f"student {student['name']}"] = student["train_seconds"]
        rows.append({"system": f"student {student['name']}", **student, **evaluate(student["model"], reference),
                     "ece": student_ece(student["model"])})
    for config in args.configs:
        group = [row for row in rows if row["system"].startswith(f"student {config}-seed")]
        rows.append({"system": f"students {config}, mean of {len(group)}",
                     "tag_acc": mean([r["tag_acc"] for r in group]), "unseen_acc": mean([r["unseen_acc"] for r in group])})
    timed = {"teacher 0": teachers[0], **{row["system"]: row["model"] for row in rows if row["system"].startswith("student ")}}
    if args.spacy:
        timed["spaCy's tagger"] = args.spacy
    speeds = tagging_speeds(timed, args)
    for row in rows:
        row["words_per_second"] = speeds.get(row["system"])
    if args.spacy:
        rows.append({"system": "spaCy's tagger", **evaluate(args.spacy, reference), "words_per_second": speeds["spaCy's tagger"]})
    info = machine()
    text = render(rows, times, info, args)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "output"}
    (args.output / "distill.json").write_text(json.dumps({"machine": info, "settings": settings, "rows": rows,
                                                          "times": times}, indent=2, default=str))
    (args.output / "distill.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
