"""A per-tag report on gold-tokenized data: accuracy, unseen-word accuracy, P/R/F1, confusions,
and how well the tag probabilities are calibrated.

    python -m spacy lstm-tagger report MODEL DATA.spacy --output DIR [--train TRAIN.spacy] [--top N]

The pipeline tags Docs built from the gold words (as `spacy evaluate --gold-preproc` does).
Tokens with no gold tag are left out. Writes DIR/report.json, DIR/report.md (also printed),
DIR/confusion.png, a heatmap of the N most frequent gold tags with the rest folded into "other",
and, for an lstm_tagger, DIR/reliability.png: the accuracy of the tokens in each confidence bin
(`token._.tag_prob`, 10 equal-width bins), whose gaps the expected calibration error weighs.
"""
import json
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Token

from ..pipeline.component import LSTMTagger
from ..pipeline.confidence import calibration_summary
from .plot import plot_confusions, plot_reliability

Scored = Tuple  # (word, gold tag, predicted tag[, probability of the predicted tag or None])
OTHER = "other"


def read_docs(path: Path, nlp: Language) -> List[Doc]:
    """Read the Docs of a `.spacy` file."""
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def tag_gold_tokens(nlp: Language, gold_docs: Iterable[Doc]) -> Iterator[Scored]:
    """Run the pipeline on the gold words of each Doc; yield (word, gold, predicted, probability)
    per token: the probability is `token._.tag_prob` (None where the pipeline sets none)."""
    gold_docs = list(gold_docs)
    probabilities = Token.has_extension("tag_prob")
    inputs = (Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
              for doc in gold_docs)
    for gold, predicted in zip(gold_docs, nlp.pipe(inputs)):
        for gold_token, token in zip(gold, predicted):
            if gold_token.tag_:
                yield gold_token.text, gold_token.tag_, token.tag_, token._.tag_prob if probabilities else None


def per_tag_scores(gold: List[str], predicted: List[str]) -> Dict[str, Dict[str, float]]:
    """Precision, recall, F1 and support (gold count) for every tag in gold or predicted."""
    gold_counts, predicted_counts = Counter(gold), Counter(predicted)
    correct = Counter(g for g, p in zip(gold, predicted) if g == p)
    scores = {}
    for tag in sorted(gold_counts.keys() | predicted_counts.keys()):
        precision = correct[tag] / predicted_counts[tag] if predicted_counts[tag] else 0.0
        recall = correct[tag] / gold_counts[tag] if gold_counts[tag] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[tag] = {"precision": precision, "recall": recall, "f1": f1, "support": gold_counts[tag]}
    return scores


def fold_confusions(pairs: Counter, tags: List[str]) -> Tuple[List[str], List[List[int]]]:
    """Counts of (gold, predicted) pairs as a matrix, rows gold; tags not in `tags` become "other".

    RETURNS (Tuple[List[str], List[List[int]]]): The labels (`tags`, then "other" if needed), counts.
    """
    labels = list(tags)
    if any(tag not in tags for pair in pairs for tag in pair):
        labels.append(OTHER)
    index = {tag: i for i, tag in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for (gold, predicted), count in pairs.items():
        matrix[index.get(gold, len(tags))][index.get(predicted, len(tags))] += count
    return labels, matrix


def compute_report(tokens: Iterable[Scored], train_words: Optional[Set[str]] = None, top: int = 20) -> dict:
    """Accuracy, accuracy on words unseen in training, per-tag scores, confusions, heatmap matrix,
    and the calibration of the tokens that have a probability (None if none has).

    tokens (Iterable[Scored]): (word, gold tag, predicted tag[, its probability]) per token.
    train_words (Optional[Set[str]]): Word forms of the training data; None skips unseen accuracy.
    top (int): Most frequent confusions listed, and gold tags given their own heatmap row.
    RETURNS (dict): The report, as written to report.json.
    """
    tokens = list(tokens)
    if not tokens:
        raise ValueError("report: no tokens with gold tags to score")
    words, gold, predicted, *probabilities = (list(column) for column in zip(*tokens))
    hits = [g == p for g, p in zip(gold, predicted)]
    scored = [(p, hit) for p, hit in zip(probabilities[0], hits) if p is not None] if probabilities else []
    unseen = None
    if train_words is not None:
        unseen_hits = [hit for word, hit in zip(words, hits) if word not in train_words]
        unseen = {"accuracy": sum(unseen_hits) / len(unseen_hits) if unseen_hits else None,
                  "tokens": len(unseen_hits)}
    pairs = Counter(zip(gold, predicted))
    errors = Counter({pair: count for pair, count in pairs.items() if pair[0] != pair[1]})
    labels, matrix = fold_confusions(pairs, [tag for tag, _ in Counter(gold).most_common(top)])
    return {
        "tokens": len(words),
        "accuracy": sum(hits) / len(hits),
        "unseen": unseen,
        "per_tag": per_tag_scores(gold, predicted),
        "confusions": [[g, p, count] for (g, p), count in errors.most_common(top)],
        "matrix": {"tags": labels, "counts": matrix},
        "calibration": calibration_summary(*zip(*scored)) if scored else None,
    }


def format_report(report: dict) -> str:
    """The report as Markdown."""
    lines = [f"Tokens: {report['tokens']}", f"Accuracy: {report['accuracy']:.4f}"]
    unseen = report["unseen"]
    if unseen is not None:
        accuracy = "n/a" if unseen["accuracy"] is None else f"{unseen['accuracy']:.4f}"
        lines.append(f"Accuracy on words unseen in training: {accuracy} ({unseen['tokens']} tokens)")
    lines += format_calibration(report["calibration"])
    lines += ["", "## Per tag", "", "| tag | precision | recall | F1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
    by_support = sorted(report["per_tag"].items(), key=lambda item: (-item[1]["support"], item[0]))
    for tag, s in by_support:
        lines.append(f"| {tag} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['support']} |")
    lines += ["", "## Most frequent confusions", ""]
    if report["confusions"]:
        lines += ["| gold | predicted | count |", "| --- | --- | ---: |"]
        lines += [f"| {gold} | {predicted} | {count} |" for gold, predicted, count in report["confusions"]]
    else:
        lines.append("None: every token was tagged correctly.")
    return "\n".join(lines) + "\n"


def format_calibration(calibration: Optional[dict]) -> List[str]:
    """The calibration section's Markdown lines (none without probabilities)."""
    if calibration is None:
        return []
    lines = ["", "## Calibration of `token._.tag_prob`", "",
             f"Expected calibration error (10 bins): {100 * calibration['ece']:.2f}%",
             f"Mean probability: {calibration['mean_confidence']:.4f}, accuracy: {calibration['accuracy']:.4f}"
             f" ({calibration['tokens']} tokens)", "",
             "| probability at least | share of tokens | accuracy |", "| ---: | ---: | ---: |"]
    for row in calibration["thresholds"]:
        accuracy = "n/a" if row["accuracy"] is None else f"{row['accuracy']:.4f}"
        lines.append(f"| {row['threshold']} | {row['share']:.4f} | {accuracy} |")
    lines += ["", "| bin | tokens | mean probability | accuracy |", "| --- | ---: | ---: | ---: |"]
    for b in calibration["bins"]:
        if b["tokens"]:
            lines.append(f"| {b['lower']:.1f}-{b['upper']:.1f} | {b['tokens']} | {b['confidence']:.4f} | {b['accuracy']:.4f} |")
    return lines


def write_report(model: str, data: Path, output: Path, train: Optional[Path] = None, top: int = 20) -> dict:
    """Tag `data` with the pipeline `model`; write report.json, report.md, confusion.png and
    (for a pipeline with an lstm_tagger) reliability.png."""
    nlp = spacy.load(model)
    for _, pipe in nlp.pipeline:
        if isinstance(pipe, LSTMTagger):
            pipe.store_probabilities = True
    train_words = {t.text for doc in read_docs(train, nlp) for t in doc} if train else None
    report = compute_report(tag_gold_tokens(nlp, read_docs(data, nlp)), train_words, top)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "report.json").write_text(json.dumps(report, indent=2), encoding="utf8")
    (output / "report.md").write_text(format_report(report), encoding="utf8")
    plot_confusions(report["matrix"]["tags"], report["matrix"]["counts"], output / "confusion.png",
                    title=f"{Path(model).name} on {Path(data).name}: accuracy {report['accuracy']:.4f}")
    if report["calibration"] is not None:
        plot_reliability(report["calibration"], output / "reliability.png",
                         title=f"{Path(model).name} on {Path(data).name}: "
                               f"ECE {100 * report['calibration']['ece']:.2f}%")
    return report
