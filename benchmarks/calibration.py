"""Calibration benchmark: ECE of a pipeline's lstm_tagger before and after temperature scaling,
on the data the temperature is fitted on and on data it is not.

python benchmarks/calibration.py MODEL [--data corpus/dev.spacy] [--output FILE.json]

EWT's test split is not available here, so the held-out figures split the dev Docs in two (even
and odd positions): a temperature fitted on one half is scored on the other, both ways round.
The tags never change; only their probabilities do.
"""
import argparse
import json
from pathlib import Path

import spacy

from common import DEV
from spacy_lstm_tagger.pipeline.calibration import gold_probabilities, read_gold_docs
from spacy_lstm_tagger.pipeline.confidence import calibration_summary
from spacy_lstm_tagger.pipeline.temperature import apply_temperature, fit_temperature


def summary(probabilities, gold) -> dict:
    """ECE (%), mean probability and accuracy of the best tag."""
    result = calibration_summary(probabilities.max(axis=1), probabilities.argmax(axis=1) == gold)
    return {"ece_percent": 100 * result["ece"], "mean_probability": result["mean_confidence"],
            "accuracy": result["accuracy"], "tokens": result["tokens"]}


def run(model: str, data: Path) -> list:
    """One row per (fitted on, scored on) pair: the temperature, and the scores before and after."""
    nlp = spacy.load(model)
    (name,) = [name for name, pipe in nlp.pipeline if hasattr(pipe, "predict_uncalibrated")]
    docs = read_gold_docs(data, nlp)
    halves = {"all": docs, "even": docs[0::2], "odd": docs[1::2]}
    scored = {part: gold_probabilities(nlp, name, part_docs) for part, part_docs in halves.items()}
    rows = []
    for fitted_on, scored_on in [("all", "all"), ("even", "odd"), ("odd", "even")]:
        temperature = fit_temperature(*scored[fitted_on])
        probabilities, gold = scored[scored_on]
        rows.append({"fitted_on": fitted_on, "scored_on": scored_on, "temperature": temperature,
                     "before": summary(probabilities, gold),
                     "after": summary(apply_temperature(probabilities, temperature), gold)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a pipeline directory (its saved temperature, if any, is ignored)")
    parser.add_argument("--data", type=Path, default=DEV, help="gold-tagged .spacy file")
    parser.add_argument("--output", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    rows = run(args.model, args.data)
    print("| fitted on | scored on | tokens | temperature | ECE before (%) | ECE after (%) "
          "| mean probability before / after | accuracy |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for row in rows:
        before, after = row["before"], row["after"]
        print(f"| {row['fitted_on']} dev Docs | {row['scored_on']} dev Docs | {before['tokens']} "
              f"| {row['temperature']:.4f} | {before['ece_percent']:.2f} | {after['ece_percent']:.2f} "
              f"| {before['mean_probability']:.4f} / {after['mean_probability']:.4f} | {before['accuracy']:.4f} |")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2), encoding="utf8")


if __name__ == "__main__":
    main()
