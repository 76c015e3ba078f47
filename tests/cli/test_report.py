"""The per-tag report: its numbers on a hand-checked example, and the command on a real model."""
import json
import subprocess
import sys

import pytest
from spacy.tokens import Doc, DocBin

from spacy_lstm_tagger.cli.report import compute_report, format_report

# (word, gold, predicted): 5 of 9 right; V->NN twice, NN->V and ADV->NN once each.
TOKENS = [
    ("the", "DET", "DET"), ("dog", "NN", "NN"), ("runs", "V", "NN"),
    ("a", "DET", "DET"), ("cat", "NN", "V"), ("sleeps", "V", "V"),
    ("fast", "ADV", "NN"), ("dogs", "NN", "NN"), ("walks", "V", "NN"),
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_scores_match_hand_computed_values():
    report = compute_report(TOKENS, train_words={"the", "dog", "a", "runs"}, top=2)
    assert report["tokens"] == 9
    assert report["accuracy"] == pytest.approx(5 / 9)
    # unseen: cat (wrong), sleeps (right), fast (wrong), dogs (right), walks (wrong)
    assert report["unseen"] == {"accuracy": pytest.approx(2 / 5), "tokens": 5}
    per_tag = report["per_tag"]
    assert per_tag["NN"] == {"precision": pytest.approx(2 / 5), "recall": pytest.approx(2 / 3),
                             "f1": pytest.approx(0.5), "support": 3}
    assert per_tag["V"] == {"precision": pytest.approx(1 / 2), "recall": pytest.approx(1 / 3),
                            "f1": pytest.approx(0.4), "support": 3}
    assert per_tag["DET"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert per_tag["ADV"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["confusions"] == [["V", "NN", 2], ["NN", "V", 1]]


def test_heatmap_folds_rare_tags_into_other():
    report = compute_report(TOKENS, top=2)
    # rows gold, columns predicted; DET->DET and ADV->NN fall into "other"
    assert report["matrix"] == {"tags": ["NN", "V", "other"], "counts": [[2, 1, 0], [2, 1, 0], [1, 0, 2]]}
    assert report["unseen"] is None
    everything = compute_report(TOKENS, top=10)["matrix"]
    assert everything["tags"] == ["NN", "V", "DET", "ADV"]
    assert sum(map(sum, everything["counts"])) == 9


def test_markdown_lists_tags_by_support_and_confusions():
    text = format_report(compute_report(TOKENS, top=2))
    assert "Accuracy: 0.5556" in text
    assert "| NN | 0.4000 | 0.6667 | 0.5000 | 3 |" in text
    assert text.index("| DET |") < text.index("| ADV |")
    assert "| V | NN | 2 |" in text


def test_calibration_section_from_token_probabilities():
    tokens = [(*token, probability) for token, probability in zip(TOKENS, [0.95, 0.9, 0.6, 0.99, 0.7, 0.55, 0.5, 0.97, 0.8])]
    report = compute_report(tokens)
    calibration = report["calibration"]
    assert calibration["tokens"] == 9 and calibration["accuracy"] == pytest.approx(5 / 9)
    assert [b["tokens"] for b in calibration["bins"]] == [0, 0, 0, 0, 0, 2, 1, 1, 1, 4]
    assert calibration["thresholds"][1] == {"threshold": 0.9, "share": pytest.approx(4 / 9), "accuracy": 1.0}
    text = format_report(report)
    assert "| 0.9-1.0 | 4 | 0.9525 | 1.0000 |" in text
    assert compute_report(TOKENS)["calibration"] is None  # no probabilities: no section
    assert "Calibration" not in format_report(compute_report(TOKENS))
    partly = compute_report([(*token, None if i % 2 else 0.9) for i, token in enumerate(TOKENS)])
    assert partly["calibration"]["tokens"] == 5  # tokens without a probability are left out


def test_no_tokens_is_an_error():
    with pytest.raises(ValueError, match="no tokens"):
        compute_report([])


def test_command_reports_the_model_on_gold_tokens(tutorial_nlp, tmp_path):
    """The CLI tags the gold words with the model: wrong gold tags show up as confusions."""
    model = tmp_path / "model"
    tutorial_nlp.to_disk(model)
    words = "The cat read that book".split()
    predicted = [t.tag_ for t in tutorial_nlp(Doc(tutorial_nlp.vocab, words=words))]
    assert predicted[4] == "NN"
    gold = ["DET", "NN", "V", "DET", "V"]  # "book" marked V: one V->NN confusion
    data = DocBin()
    data.add(Doc(tutorial_nlp.vocab, words=words, tags=gold))
    data.add(Doc(tutorial_nlp.vocab, words=["a", "dog"], tags=["", "NN"]))  # no gold tag: skipped
    data.to_disk(tmp_path / "dev.spacy")
    train = DocBin(docs=[Doc(tutorial_nlp.vocab, words="The dog read that book".split())])
    train.to_disk(tmp_path / "train.spacy")

    result = subprocess.run(
        [sys.executable, "-m", "spacy", "lstm-tagger", "report", model, tmp_path / "dev.spacy",
         "--train", tmp_path / "train.spacy", "--output", tmp_path / "out", "--top", "2"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    dog = tutorial_nlp(Doc(tutorial_nlp.vocab, words=["a", "dog"]))[1].tag_
    hits = [g == p for g, p in zip(gold, predicted)] + [dog == "NN"]
    assert report["tokens"] == 6
    assert report["accuracy"] == pytest.approx(sum(hits) / 6)
    assert report["unseen"] == {"accuracy": float(predicted[1] == "NN"), "tokens": 1}  # "cat"
    assert ["V", "NN", 1] in report["confusions"]
    assert (tmp_path / "out" / "report.md").read_text() in result.stdout
    assert (tmp_path / "out" / "confusion.png").read_bytes()[:8] == PNG_SIGNATURE
    # The tag probabilities' calibration, from token._.tag_prob of each scored token.
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    first, second = (tagger.predict([Doc(tutorial_nlp.vocab, words=w)])[0] for w in (words, ["a", "dog"]))
    probabilities = [*first.max(axis=1), second[1].max()]  # "a" has no gold tag
    calibration = report["calibration"]
    assert calibration["tokens"] == 6
    assert calibration["mean_confidence"] == pytest.approx(sum(probabilities) / 6, rel=1e-5)
    assert calibration["accuracy"] == report["accuracy"]
    assert "Expected calibration error (10 bins): " in result.stdout
    assert (tmp_path / "out" / "reliability.png").read_bytes()[:8] == PNG_SIGNATURE


def test_importing_the_report_does_not_import_matplotlib():
    code = "import sys, spacy_lstm_tagger.cli.report; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
