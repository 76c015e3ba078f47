"""spaCy finds the component and architecture through entry points, with no import."""
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
import spacy
from spacy.util import registry

ENTRY_POINTS = {
    "spacy_factories": {"lstm_tagger"},
    "spacy_architectures": {
        "spacy_lstm_tagger.LSTMTagger.v1", "spacy_lstm_tagger.LSTMTagger.v2", "spacy_lstm_tagger.LSTMTagger.v3",
        "spacy_lstm_tagger.LSTMEncoder.v1", "spacy_lstm_tagger.PretrainBiLM.v1",
    },
    "spacy_callbacks": {"spacy_lstm_tagger.calibrate_temperature.v1"},
    "spacy_readers": {"spacy_lstm_tagger.DistillationCorpus.v1"},
    "spacy_cli": {"lstm-tagger"},
}


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.mark.parametrize("group", sorted(ENTRY_POINTS))
def test_entry_points_load(group):
    found = {ep.name: ep for ep in entry_points(group=group) if ep.value.startswith("spacy_lstm_tagger.")}
    assert set(found) == ENTRY_POINTS[group]
    assert all(callable(ep.load()) for ep in found.values())  # a function, or the CLI's Typer app


def test_registered_names_resolve():
    assert spacy.Language.has_factory("lstm_tagger")
    for name in ENTRY_POINTS["spacy_architectures"]:
        assert callable(registry.architectures.get(name))
    assert callable(registry.callbacks.get("spacy_lstm_tagger.calibrate_temperature.v1"))


def test_add_pipe_without_import():
    code = (
        "import sys, spacy\n"
        "nlp = spacy.blank('en')\n"
        "tagger = nlp.add_pipe('lstm_tagger')\n"
        "print(type(tagger).__module__, 'spacy_lstm_tagger.layers.architectures' in sys.modules)\n"
    )
    assert run_python(code) == "spacy_lstm_tagger.pipeline.component True"


def test_blank_language_does_not_build_the_model():
    """spaCy imports every factory module in spacy.blank(); that must not build anything."""
    code = "import sys, spacy\nspacy.blank('en')\nprint('spacy_lstm_tagger.layers.architectures' in sys.modules)"
    assert run_python(code) == "False"


def test_factory_metadata():
    meta = spacy.Language.get_factory_meta("lstm_tagger")
    assert meta.assigns == ["token.tag"]
    assert meta.default_score_weights == {"tag_acc": 1.0}
