"""Two lstm_tagger pipelines against each other, for speed: say, the same config in two
architecture versions.

python benchmarks/versions.py --a training/v2/model-best --b training/v3/model-best [--repeats 5]

Tagging words/s (float and int8, batch size 256) and training words/s (built from each model's
config, as benchmarks/speed.py times them), at 1 thread, every run a fresh process, the two taking
turns; medians, and b / a.
"""
import argparse
import json
import statistics
from pathlib import Path

from common import ROOT, machine, markdown_table, measure

JOBS = {
    "tagging, float": ("tag_speed", {}),
    "tagging, int8": ("tag_speed", {"config": {"components.lstm_tagger.quantize": True}}),
    "training": ("train_speed", {"steps": 30, "batch_words": 1000}),  # speed.py's settings
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", type=Path, required=True, help="the baseline pipeline")
    parser.add_argument("--b", type=Path, required=True, help="the pipeline compared with it")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "training" / "benchmark-versions")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    runs = {(name, side): [] for name in JOBS for side in "ab"}
    for round_ in range(args.repeats):
        print(f"round {round_ + 1} of {args.repeats}", flush=True)
        for name, (job, kwargs) in JOBS.items():
            for side in "ab":
                model = str(getattr(args, side).resolve())
                runs[name, side].append(measure(job, 1, model=model, repeats=1, **kwargs)["median"])
    medians = {key: statistics.median(values) for key, values in runs.items()}
    rows = [[name, f"{medians[name, 'a']:,.0f}", f"{medians[name, 'b']:,.0f}",
             f"{medians[name, 'b'] / medians[name, 'a']:.3f}"] for name in JOBS]
    info = machine()
    text = "\n".join([
        f"Command: `{info['command']}`",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu']}), spaCy {info['spacy']}, torch {info['torch']}, {info['date']}",
        f"a: {args.a}; b: {args.b}; medians of {args.repeats} runs at 1 thread", "",
        markdown_table(["words/s", "a", "b", "b / a"], rows),
    ])
    (args.output / "versions.json").write_text(json.dumps(
        {"machine": info, "runs": {f"{name} / {side}": values for (name, side), values in runs.items()}}, indent=2))
    (args.output / "versions.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
