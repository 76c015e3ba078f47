"""The benchmarks: generated spaCy configs, and the scripts' --quick modes end to end."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import torch
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from conftest import ROOT, TUTORIAL_DATA

sys.path.insert(0, str(ROOT / "benchmarks"))
from common import PROGRESS, progress_row, write_config  # noqa: E402

def run_benchmark(script, output, *args):
    command = [sys.executable, ROOT / "benchmarks" / script, "--quick", "--output", output, *args]
    result = subprocess.run(list(map(str, command)), cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return result.stdout


def count_unseen():
    vocab = spacy.blank("en").vocab
    forms = {t.text for doc in DocBin().from_disk(ROOT / "corpus" / "train.spacy").get_docs(vocab) for t in doc}
    dev = [t.text for doc in DocBin().from_disk(ROOT / "corpus" / "dev.spacy").get_docs(vocab) for t in doc]
    return [sum(word not in forms for word in dev), len(dev)]


def majority_tag_share():
    """What tagging every dev token with the most frequent tag scores (%): a floor any trained
    tagger beats."""
    tags = [t.tag_ for doc in DocBin().from_disk(ROOT / "corpus" / "dev.spacy").get_docs(spacy.blank("en").vocab)
            for t in doc]
    return 100 * max(map(tags.count, set(tags))) / len(tags)


@pytest.mark.parametrize("system", ["spacy_cnn", "spacy_bilstm"])
def test_spacy_configs_use_gold_tokens_and_build(system, tmp_path):
    config = spacy.util.load_config(write_config(system, tmp_path))
    assert config["corpora"]["train"]["gold_preproc"] and config["corpora"]["dev"]["gold_preproc"]
    encoder = config["components"]["tok2vec"]["model"]["encode"]["@architectures"]
    assert encoder == {"spacy_cnn": "spacy.MaxoutWindowEncoder.v2", "spacy_bilstm": "spacy.TorchBiLSTMEncoder.v1"}[system]
    assert spacy.util.load_model_from_config(config, auto_fill=True).pipe_names == ["tok2vec", "tagger"]


def test_progress_rows_give_the_step_and_tag_accuracy():
    """TAG_ACC, not the rounded SCORE, from our logger's rows and from spaCy's tagger's."""
    ours = "E    #       LOSS LSTM_...  TAG_ACC  SCORE ".split()
    spacys = "E    #       LOSS TOK2VEC  LOSS TAGGER  TAG_ACC  POS_ACC  SCORE ".split()
    assert progress_row(ours, "  0    3000          52.10      94.67    0.95") == (3000, 94.67)
    assert progress_row(spacys, "  3    1200         12.50      340.10    91.25     0.00    0.91") == (1200, 91.25)
    assert PROGRESS.match("E    #       LOSS TOK2VEC  LOSS TAGGER  TAG_ACC  SCORE") is None


@pytest.mark.slow
def test_accuracy_quick(tmp_path):
    log = run_benchmark("accuracy.py", tmp_path, "--seeds", "0", "1")
    result = json.loads((tmp_path / "accuracy.json").read_text())
    assert result["unseen"] == count_unseen() == [2090, 25150]
    assert [(row["system"], row["seed"]) for row in result["rows"]] == [
        ("lstm_tagger", 0), ("lstm_tagger", 1), ("spacy_cnn", 0), ("spacy_bilstm", 0)]
    assert result["seed_summary"]["seeds"] == [0, 1]
    seeds = [row["tag_acc"] for row in result["rows"] if row["system"] == "lstm_tagger"]
    assert result["seed_summary"]["tag_acc_mean"] == pytest.approx(sum(seeds) / len(seeds), abs=0.01)
    for row in result["rows"]:
        name = row["system"] if row["system"] != "lstm_tagger" else f"lstm_tagger-seed{row['seed']}"
        assert re.search(rf"^\[{name}\] +\d+ +100 ", log, re.M)  # progress streamed
        assert row["tag_acc"] > majority_tag_share() and row["unseen_acc"] < row["tag_acc"]
        assert row["n_unseen"] == result["unseen"][0] and row["n_tokens"] == result["unseen"][1]
        assert row["tag_words_per_second"] > 0 and row["train_seconds"] > 0
        assert row["steps"] == 200 and not row["stopped_at_time_limit"]
    assert "| lstm_tagger | 0 |" in (tmp_path / "accuracy.md").read_text()


@pytest.mark.slow
def test_accuracy_quick_with_equal_wall_time(tmp_path):
    run_benchmark("accuracy.py", tmp_path, "--minutes", "0.2", "--systems", "spacy_cnn", "--repeats", "1")
    result = json.loads((tmp_path / "accuracy.json").read_text())
    (row,) = result["rows"]
    assert row["stopped_at_time_limit"] and result["budget"].startswith("equal wall time: 0.2 min")
    assert row["tag_acc"] > 0 and row["n_tokens"] == count_unseen()[1]


@pytest.mark.slow
def test_speed_quick(tmp_path):
    run_benchmark("speed.py", tmp_path)
    result = json.loads((tmp_path / "speed.json").read_text())
    table = {row["metric"]: row for row in result["table"]}
    speeds = [
        "CPU tagging words/s, 1 thread", "CPU tagging words/s, 2 threads",
        "CPU training words/s, 1 thread", "CPU training words/s, 2 threads",
    ]
    sizes = [
        "RSS before tagging (MB)", "RSS after first 5,000 tokens (MB)", "RSS after 50,000 tokens (MB)",
        "peak RSS over 50,000 tokens (MB)", "model size on disk (MB)",
        "one 2,000-token Doc (s)", "one 20,000-token Doc (s)",
    ]
    for metric in speeds + sizes:
        row = table[metric]
        assert row["lstm_tagger"] > 0 and row["spacy_cnn"] > 0
        assert row["ratio"] == pytest.approx(row["lstm_tagger"] / row["spacy_cnn"])
    for metric in ["dev tag acc (%)", "one 20,000-token Doc: tag acc (%)"]:
        assert table[metric]["lstm_tagger"] > majority_tag_share() and table[metric]["spacy_cnn"] > majority_tag_share()
    int8 = result["results"]["lstm_tagger"]["int8"]
    assert table["CPU tagging words/s, 1 thread, ours int8"]["lstm_tagger"] == int8["tag_1"]["median"] > 0
    assert table["CPU tagging words/s, 1 thread, ours int8"]["spacy_cnn"] == table["CPU tagging words/s, 1 thread"]["spacy_cnn"]
    assert int8["tag_acc"] > majority_tag_share()
    float32 = result["results"]["lstm_tagger"]["float32"]
    row = table["CPU training words/s, 1 thread, ours with cpu_bfloat16 = false"]
    assert row["lstm_tagger"] == float32["train_1"]["median"] > 0
    change = table["dev tag acc change, int8 - float (points)"]["lstm_tagger"]
    assert change == pytest.approx(int8["tag_acc"] - table["dev tag acc (%)"]["lstm_tagger"])
    for system in ("lstm_tagger", "spacy_cnn"):
        stream = result["results"][system]["stream"]
        assert stream["tokens"] >= 50_000 and stream["peak_mb"] > 0 and stream["end_mb"] > 0
        assert ("gpu" in result["results"][system]) == torch.cuda.is_available()


@pytest.mark.slow
def test_latency_quick(tmp_path):
    run_benchmark("latency.py", tmp_path, "--docs", "60", "--rounds", "1", "--seen-types", "3000")
    result = json.loads((tmp_path / "latency.json").read_text())
    summary = result["summary"]
    assert set(summary) == {"lstm_tagger", "lstm_tagger int8", "spacy_cnn"}
    for system, row in summary.items():
        assert row["n_docs"] == 60 and 0 < row["median_ms"] <= row["p99_ms"]
        assert set(row["words_per_second"]) == {"1", "8", "32", "256"} and min(row["words_per_second"].values()) > 0
    assert summary["lstm_tagger"]["same_tags_at_every_batch_size"]
    text = (tmp_path / "latency.md").read_text()
    assert "| per Doc, median (ms) |" in text and "after 3,000 made-up words" in text


@pytest.mark.slow
def test_distill_quick(tmp_path):
    log = run_benchmark("distill.py", tmp_path)
    result = json.loads((tmp_path / "distill.json").read_text())
    rows = {row["system"]: row for row in result["rows"]}
    expected = {"teacher 0", "teacher 1", "teacher 2", "ensemble of 3 (averaged probabilities)",
                "student default-seed0", "student small-seed0", "student default-gold-only-seed0",
                "students default, mean of 1", "students small, mean of 1"}
    assert set(rows) == expected
    for name, row in rows.items():
        assert row["tag_acc"] > majority_tag_share() and 0 <= row["unseen_acc"] <= 100
        if name.startswith("student "):
            assert row["words_per_second"] > 0 and row["train_seconds"] > 0 and 0 <= row["ece"] < 100
            text = (tmp_path / "students" / name.split()[1] / "model-best" / "config.cfg").read_text()
            assert "teacher" not in text
            assert "\ndropout = 0.15\n" in text  # a student's dropout (docs/distillation.md)
    assert rows["student default-gold-only-seed0"]["raw_text"] is False
    assert rows["student default-seed0"]["raw_text"] == (result["settings"]["raw_text"] is not None)
    assert "tagging the training data and raw text with the teachers" in result["times"]
    assert "| ensemble of 3 (averaged probabilities) |" in (tmp_path / "distill.md").read_text()


@pytest.mark.slow
def test_pretraining_quick(tmp_path):
    if not (ROOT.parent / "shared" / "corpora" / "raw").exists():
        pytest.skip("../shared/corpora/raw is absent")
    run_benchmark("pretraining.py", tmp_path)
    result = json.loads((tmp_path / "pretraining.json").read_text())
    runs = {(run["setting"], run["objective"]): run for run in result["runs"]}
    assert set(runs) == {("little", "none"), ("little", "bilm"), ("little", "characters")}
    for run in runs.values():
        assert 0 < run["tag_acc"] <= 100 and 0 <= run["unseen_acc"] <= 100 and run["train_seconds"] > 0
    for pretraining in result["pretraining"]:
        assert pretraining["words"] > 10_000 and pretraining["words_per_second"] > 0
        assert Path(pretraining["weights"]).stat().st_size > 0
    little = DocBin().from_disk(tmp_path / "data" / "little.spacy")
    assert len(little) == (len(DocBin().from_disk(ROOT / "corpus" / "train.spacy")) + 9) // 10  # every 10th
    assert "| little | bilm | 1 |" in (tmp_path / "pretraining.md").read_text()


def tagged_words(docs):
    """Each Doc as (word, tag) pairs."""
    return [[(t.text, t.tag_) for t in doc] for doc in docs]


def eval_accuracies(log, label):
    """TAG_ACC of each evaluation row that `spacy train` logged under `label`."""
    lines = [line[len(label) + 3:] for line in log.splitlines() if line.startswith(f"[{label}] ")]
    header = next(line.split() for line in lines if line.startswith("E "))
    return [progress_row(header, line)[1] for line in lines if PROGRESS.match(line)]


@pytest.mark.slow
def test_continued_quick(tmp_path):
    log = run_benchmark("continued.py", tmp_path)
    result = json.loads((tmp_path / "continued.json").read_text())
    vocab = spacy.blank("en").vocab
    first, second = (list(DocBin().from_disk(tmp_path / "corpus" / f"{name}-half.spacy").get_docs(vocab))
                     for name in ("first", "second"))
    corpus = list(DocBin().from_disk(ROOT / "corpus" / "train.spacy").get_docs(vocab))[:2000]
    split = result["split"]
    assert (split["first"]["docs"], split["second"]["docs"]) == (len(first), len(second)) == (1000, 1000)
    assert split["corpus_docs"] == len(first) + len(second) == len(corpus)
    assert tagged_words(first) + tagged_words(second) == tagged_words(corpus)  # a partition, in order
    first_tags, second_tags = ({t.tag_ for doc in half for t in doc} for half in (first, second))
    assert result["tags_only_in_second_half"] == sorted(second_tags - first_tags) == ["GW"]

    first_forms, second_forms = ({t.text for doc in half for t in doc} for half in (first, second))
    dev = [t.text for doc in DocBin().from_disk(ROOT / "corpus" / "dev.spacy").get_docs(vocab) for t in doc]
    n_new = sum(word in second_forms and word not in first_forms for word in dev)
    assert result["dev"] == {"n_tokens": len(dev), "n_new": n_new,
                             "n_unseen": sum(word not in first_forms | second_forms for word in dev)}
    assert n_new > 0 and f"New-word dev tokens: {n_new:,} of {len(dev):,}" in log

    rows = {(row["system"], row["phase"]): row for row in result["rows"]}
    assert sorted(rows) == [(system, phase) for system in ("lstm_tagger", "spacy_cnn") for phase in (0, 1, 2)]
    both = list(DocBin().from_disk(tmp_path / "corpus" / "both-halves.spacy").get_docs(vocab))
    assert tagged_words(both) == tagged_words(corpus)  # phase 0 trains on both halves
    for (system, phase), row in rows.items():
        assert row["steps"] == {1: 100, 2: 50, 0: 150}[phase]  # the same step counts for both systems
        assert row["model"] == str(tmp_path / system / f"phase{phase}" / "model-last")
        sourced = "source = " in (tmp_path / "configs" / f"{system}-phase{phase}.cfg").read_text()
        assert sourced == (phase == 2)  # phase 0 starts from scratch, as phase 1 does
    assert sorted(result["gains"]) == ["lstm_tagger", "spacy_cnn"]
    for system, gain in result["gains"].items():
        assert gain == {key: rows[system, 2][key] - rows[system, 1][key]
                        for key in ("tag_acc", "new_acc", "unseen_acc")}
        # phase 2 resumes phase 1's model, not a fresh one: its first evaluation (after one
        # update) is nearer phase 1's last than phase 1's first
        phase1, phase2 = eval_accuracies(log, f"{system}-phase1"), eval_accuracies(log, f"{system}-phase2")
        assert abs(phase2[0] - phase1[-1]) < abs(phase2[0] - phase1[0])
    report = (tmp_path / "continued.md").read_text()
    assert "| spacy_cnn | gain |" in report and "| spacy_cnn | from scratch on both halves | 150 |" in report


@pytest.mark.slow
@pytest.mark.ray
def test_scaling_quick(tutorial_model_path, tmp_path):
    """Every row measured: the same tokens for all, a words/s, and peak RSS figures measured so that
    they cannot be missed (getrusage after the processes are reaped), asserted; Ray's actors' peaks
    can only be sampled, so they are reported, marked so, and not asserted."""
    pytest.importorskip("ray", reason="tag_corpus needs the ray extra: pip install -e '.[ray]'")
    log = run_benchmark("scaling.py", tmp_path, "--model", tutorial_model_path, "--records", "100")
    result = json.loads((tmp_path / "scaling.json").read_text())
    rows = {row["command"].split(" (")[0]: row for row in result["rows"]}
    assert list(rows) == ["nlp.pipe", "spacy apply --n-process 1 --batch-size 1", "spacy apply --n-process 1 --batch-size 256",
                          "spacy apply --n-process 2 --batch-size 256", "tag_corpus --workers 1 --batch-size 256",
                          "tag_corpus --workers 2 --batch-size 256"]
    assert result["records"] == 100 and result["tokens"] > 1000
    assert all(row["tokens"] == result["tokens"] and row["wall"] > 0 for row in rows.values())
    # what a fresh process that has loaded the model holds of its own: spaCy, torch and the model
    loaded = result["loaded_model"]["anon_mb"]
    assert 50 < loaded < result["loaded_model"]["peak_mb"]
    for name, row in rows.items():
        assert row["main_mb"] > loaded, name  # every main process has imported spaCy and torch
        if name.startswith("tag_corpus"):
            assert not row["worker_mb_exact"] and "sampled" in row["worker_mb_how"], name
        else:  # the one process, or each worker forked from a main process that has loaded the model
            assert row["worker_mb_exact"] and row["worker_mb"] > loaded, name
            assert row["workers"] == 2 or row["worker_mb"] == row["main_mb"], name
    assert rows["tag_corpus --workers 2 --batch-size 256"]["summary"]["records"] == 100
    assert "| tag_corpus --workers 2 --batch-size 256 | 2 |" in log


def test_calibration_benchmark_fits_on_one_half_and_scores_the_other(tutorial_nlp, tmp_path):
    tutorial_nlp.to_disk(tmp_path / "model")
    docs = [Doc(tutorial_nlp.vocab, words=words, tags=tags) for words, tags in TUTORIAL_DATA]
    wrong = [Doc(tutorial_nlp.vocab, words=words, tags=tags[1:] + tags[:1]) for words, tags in TUTORIAL_DATA]
    DocBin(docs=docs + wrong + docs).to_disk(tmp_path / "dev.spacy")
    command = [sys.executable, ROOT / "benchmarks" / "calibration.py", tmp_path / "model",
               "--data", tmp_path / "dev.spacy", "--output", tmp_path / "rows.json"]
    result = subprocess.run(list(map(str, command)), cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [(row["fitted_on"], row["scored_on"]) for row in rows] == [("all", "all"), ("even", "odd"), ("odd", "even")]
    assert rows[0]["before"]["tokens"] == 27 and rows[1]["before"]["tokens"] + rows[2]["before"]["tokens"] == 27
    assert rows[0]["after"]["ece_percent"] < rows[0]["before"]["ece_percent"]
    assert all(row["after"]["accuracy"] == row["before"]["accuracy"] for row in rows)
    assert "| all dev Docs | all dev Docs | 27 |" in result.stdout


def test_multiply_adds_count_each_product_once_per_token(tutorial_model_path, tmp_path):
    import measure

    config = spacy.load(tutorial_model_path).config["components"]["lstm_tagger"]["model"]
    hidden, gates = config["hidden_width"], 2 * 4 * config["hidden_width"]  # bidirectional
    n_labels = len(spacy.load(tutorial_model_path).get_pipe("lstm_tagger").labels)
    assert measure.multiply_adds(str(tutorial_model_path)) == {
        "recurrent": config["depth"] * 2 * hidden * 4 * hidden,
        "later_layers_input": (config["depth"] - 1) * 2 * hidden * gates,
        "output": 2 * hidden * n_labels,
        # the CNN's window (3 characters of 16-wide embeddings) at each character, then its projection
        "character_cnn": config["char_length"] * 3 * 16 * config["char_width"] + config["char_width"] * gates,
    }
    nlp = spacy.blank("en")
    nlp.add_pipe("tagger")  # spaCy's default tok2vec inside: 4 hashed attrs, width 96, 4 maxout layers of 3 pieces
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc("The dog"), {"tags": ["DET", "NN"]})])
    nlp.to_disk(tmp_path / "spacy")
    width = 96
    assert measure.multiply_adds(str(tmp_path / "spacy")) == {
        "matrices": 4 * width * 3 * width + 4 * (3 * width) * 3 * width + width * 2}


def test_new_text_speed_times_the_texts_after_the_warm_up(tutorial_model_path, tmp_path):
    import measure

    texts = [f"The dog ate {n} apples" if n % 2 else "Everybody read that book" for n in range(10)]
    (tmp_path / "raw.jsonl").write_text("".join(json.dumps({"text": text}) + "\n" for text in texts))
    result = measure.new_text_speed(str(tutorial_model_path), [str(tmp_path / "raw.jsonl")], warm_docs=2,
                                    max_docs=8, batch_size=4)
    nlp = spacy.blank("en")
    assert result["n_docs"] == 6 and result["n_words"] == sum(len(nlp.make_doc(text)) for text in texts[2:8])
    assert result["words_per_second"] > 0
    assert measure.matmul_rate(size=64, repeats=2)["multiply_adds_per_second"] > 0
