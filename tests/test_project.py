"""project.yml: `spacy project run all` on the tutorial data, in a copy of the project."""
import json
import shutil
import subprocess
import sys

import pytest
from weasel.util import load_project_config

from conftest import ROOT, assert_wheel_says_what_it_is

STEPS = ["convert", "train", "evaluate", "report", "package"]
SMALL = ["--vars.config=tutorial", "--vars.tsv_dir=tsv"]


def test_workflow_steps_and_paths(tmp_path):
    shutil.copy(ROOT / "project.yml", tmp_path)  # loading creates the project's directories
    config = load_project_config(tmp_path)
    assert config["workflows"]["all"] == STEPS
    commands = {command["name"]: command for command in config["commands"]}
    assert set(commands) == set(STEPS)
    assert commands["convert"]["deps"] == ["../shared/corpora/en_ewt/train.tsv", "../shared/corpora/en_ewt/dev.tsv"]
    assert commands["train"]["deps"] == ["configs/lstm_tagger.cfg", "corpus/train.spacy", "corpus/dev.spacy", "corpus/meta.json"]
    assert "spacy lstm-tagger meta corpus/meta.json training/model-best" in commands["train"]["script"][1]
    assert all(command["outputs"] for command in commands.values())
    assert "--gold-preproc" in commands["evaluate"]["script"][0]


@pytest.fixture
def project(tmp_path):
    """The project file, configs and data meta, with the tutorial sentences as train.tsv and a new dev.tsv."""
    shutil.copy(ROOT / "project.yml", tmp_path)
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    (tmp_path / "corpus").mkdir()
    shutil.copy(ROOT / "corpus" / "meta.json", tmp_path / "corpus")
    (tmp_path / "tsv").mkdir()
    shutil.copy(ROOT / "corpus" / "tutorial" / "tutorial.tsv", tmp_path / "tsv" / "train.tsv")
    (tmp_path / "tsv" / "dev.tsv").write_text("The\tDET\ncat\tNN\nread\tV\nthat\tDET\nbook\tNN\n")
    return tmp_path


def run_all(project):
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", "all", project, *SMALL],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_run_all_then_skip_when_nothing_changed(project):
    run_all(project)
    assert (project / "corpus" / "train.spacy").is_file() and (project / "corpus" / "dev.spacy").is_file()
    scores = json.loads((project / "training" / "scores.json").read_text())
    report = json.loads((project / "training" / "report" / "report.json").read_text())
    assert report["tokens"] == 5
    assert report["accuracy"] == pytest.approx(scores["tag_acc"])  # the report agrees with spacy evaluate
    assert report["unseen"]["tokens"] == 1  # "cat"
    assert (project / "training" / "report" / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    wheel = project / "packages" / "en_lstm_ewt-1.0.0" / "dist" / "en_lstm_ewt-1.0.0-py3-none-any.whl"
    assert_wheel_says_what_it_is(wheel)

    again = run_all(project)
    assert all(f"Skipping '{step}': nothing changed" in again for step in STEPS)
