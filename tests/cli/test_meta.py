"""The meta command: a pipeline's meta.json takes the data's keys and keeps its own."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from spacy_lstm_tagger.cli.meta import add_meta


def test_adds_the_data_keys_and_keeps_the_pipelines_own(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "meta.json").write_text(json.dumps({"name": "pipeline", "license": "", "version": "0.0.0"}))
    add_meta(ROOT / "corpus" / "meta.json", [tmp_path / "model"])
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert (meta["name"], meta["version"], meta["license"]) == ("pipeline", "0.0.0", "CC BY-SA 4.0")
    assert meta["sources"][0]["url"] == "https://github.com/UniversalDependencies/UD_English-EWT"
    assert "release 2.1" in meta["sources"][0]["name"] and meta["description"]


def test_a_folder_without_meta_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path} has no meta.json"):
        add_meta(ROOT / "corpus" / "meta.json", [tmp_path])
    command = [sys.executable, "-m", "spacy", "lstm-tagger", "meta", "--help"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0 and "pipelines" in result.stdout
