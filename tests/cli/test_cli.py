"""The real `spacy train`, `spacy evaluate` and `spacy package` CLIs, on every shipped config; and
our commands inside spaCy's CLI."""
import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.util import load_config

from conftest import ROOT, assert_wheel_says_what_it_is

CONFIGS = sorted((ROOT / "configs").glob("*.cfg"))
DEV_SAMPLE = ["--corpora.train.limit", "200", "--corpora.dev.limit", "50"]
COMMANDS = {"convert", "calibrate", "distill", "meta", "quantize", "report", "tag-corpus"}


def run(*args, cwd=ROOT, python=sys.executable):
    result = subprocess.run([str(python), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("prefix", [["spacy", "lstm-tagger"], ["spacy_lstm_tagger"]])
def test_help_lists_the_seven_commands(prefix):
    listed = run("-m", *prefix, "--help").split("Commands:", 1)[1]
    assert {line.split()[0] for line in listed.splitlines() if line.strip()} == COMMANDS


def test_spacy_help_names_the_commands():
    assert "lstm-tagger" in run("-m", "spacy", "--help")


def test_the_entry_point_loads_nothing_heavy():
    """Every `python -m spacy ...` loads our `spacy_cli` entry point: on top of spaCy's CLI, it
    imports only modules of ours; and our commands module alone imports neither torch nor spaCy."""
    code = ("import sys, spacy.cli; from importlib.metadata import entry_points; before = set(sys.modules); "
            "[ep.load() for ep in entry_points(group='spacy_cli') if ep.value.startswith('spacy_lstm_tagger.')]; "
            "print(' '.join(sorted(set(sys.modules) - before)))")
    loaded = run("-c", code).split()
    assert "spacy_lstm_tagger.cli.spacy_cli" in loaded
    assert [m for m in loaded if m.split(".")[0] != "spacy_lstm_tagger"] == []
    code = ("import sys, spacy_lstm_tagger.cli.commands; "
            "print([m for m in ('torch', 'thinc', 'spacy') if m in sys.modules])")
    assert run("-c", code).strip() == "[]"


def uses_static_vectors(config: Path) -> bool:
    return bool(load_config(config)["components"]["lstm_tagger"]["model"].get("include_static_vectors"))


def small_vectors(folder: Path) -> Path:
    """A pipeline whose vocab has random 16-wide vectors for the words of 300 training Docs,
    made with `spacy init vectors` (no vectors can be downloaded here)."""
    vocab = spacy.blank("en").vocab
    docs = list(DocBin().from_disk(ROOT / "corpus" / "train.spacy").get_docs(vocab))[:300]
    words = sorted({t.text for doc in docs for t in doc if " " not in t.text})
    rng = numpy.random.default_rng(0)
    lines = [f"{len(words)} 16"] + [word + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=16)) for word in words]
    (folder / "vectors.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    run("-m", "spacy", "init", "vectors", "en", folder / "vectors.txt", folder / "vectors")
    return folder / "vectors"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each config trained for a few steps with the real CLI: {config name: output dir}. A
    config with static vectors gets a small table of random ones."""
    outputs = {}
    for config in CONFIGS:
        output = tmp_path_factory.mktemp(config.stem)
        vectors = ["--paths.vectors", small_vectors(output)] if uses_static_vectors(config) else []
        log = run(
            "-m", "spacy", "train", config, "--output", output,
            "--training.max_steps", "12", "--training.eval_frequency", "6", *DEV_SAMPLE, *vectors,
        )
        assert "TAG_ACC" in log
        outputs[config.stem] = output
    return outputs


def tag_accuracy(model, corpus):
    """The share of tokens whose tag, from the model loaded here and given only the gold words,
    is the gold tag; and the share of the most frequent gold tag."""
    nlp = spacy.load(model)
    gold = list(DocBin().from_disk(corpus).get_docs(nlp.vocab))
    words = [Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc]) for doc in gold]
    pairs = [(p.tag_, g.tag_) for p_doc, g_doc in zip(nlp.pipe(words), gold) for p, g in zip(p_doc, g_doc)]
    gold_tags = [g for _, g in pairs]
    most_frequent = max(gold_tags.count(tag) for tag in set(gold_tags))
    return sum(p == g for p, g in pairs) / len(pairs), most_frequent / len(pairs)


@pytest.mark.slow
@pytest.mark.parametrize("config", [c.stem for c in CONFIGS])
def test_config_trains_evaluates_and_tags(trained, config):
    """`spacy evaluate` scores what the trained model tags; trained on EWT, it beats a constant tag."""
    model = trained[config] / "model-best"
    scores = trained[config] / "scores.json"
    dev = ROOT / "corpus" / "dev.spacy"
    run("-m", "spacy", "evaluate", model, dev, "--gold-preproc", "--output", scores)
    accuracy, majority = tag_accuracy(model, dev)
    assert json.loads(scores.read_text())["tag_acc"] == pytest.approx(accuracy, abs=1e-6)  # 1 token is 4e-5
    if load_config(ROOT / "configs" / f"{config}.cfg")["paths"]["train"] == "corpus/train.spacy":
        # Trained on EWT, even 12 steps beat tagging every token alike (about 0.22 against 0.13).
        assert accuracy > majority
    tags = run("-c", f"import spacy; print([t.tag_ for t in spacy.load({str(model)!r})('The dog ate the apple')])")
    assert "''" not in tags and len(eval(tags)) == 5


@pytest.mark.slow
def test_vectors_and_temperature_ship_with_the_package(trained, tmp_path):
    """spacy package copies the pipeline's vectors and the fitted temperature into the package."""
    model = trained["lstm_tagger_vectors"] / "model-best"
    run("-m", "spacy", "package", model, tmp_path, "--name", "lstm_vectors", "--version", "0.0.1", "--build", "none")
    (packaged,) = tmp_path.glob("en_lstm_vectors-0.0.1/en_lstm_vectors/en_lstm_vectors-0.0.1")
    original, shipped = spacy.load(model), spacy.load(packaged)
    assert shipped.vocab.vectors.shape == original.vocab.vectors.shape == (shipped.vocab.vectors.shape[0], 16)
    numpy.testing.assert_array_equal(shipped.vocab.vectors.data, original.vocab.vectors.data)
    assert shipped.get_pipe("lstm_tagger").cfg["temperature"] == original.get_pipe("lstm_tagger").cfg["temperature"]
    doc = Doc(original.vocab, words="The dog ate the apple".split())
    numpy.testing.assert_array_equal(shipped.get_pipe("lstm_tagger").predict([Doc(shipped.vocab, words=list(doc.text.split()))])[0],
                                     original.get_pipe("lstm_tagger").predict([doc])[0])


@pytest.mark.slow
def test_package_installs_and_tags_in_a_fresh_environment(trained, tmp_path):
    """The main job's meta step, then spacy package -> wheel naming spacy-lstm-tagger and saying
    its licence, description and sources; installed with the plugin, it tags, and spaCy's CLI has
    our commands."""
    packages = tmp_path / "packages"
    packages.mkdir()
    model = tmp_path / "model-best"
    shutil.copytree(trained["tutorial"] / "model-best", model)
    run("-m", "spacy", "lstm-tagger", "meta", ROOT / "corpus" / "meta.json", model)
    assert json.loads((model / "meta.json").read_text())["lang"] == "en"  # its own keys kept
    run(
        "-m", "spacy", "package", model, packages,
        "--name", "lstm_test", "--version", "0.0.1", "--build", "wheel",
    )
    (model_wheel,) = packages.glob("*/dist/*.whl")
    requirements = run("-c", f"import zipfile; z = zipfile.ZipFile({str(model_wheel)!r}); "
                       "print([z.read(n).decode() for n in z.namelist() if n.endswith('METADATA')][0])")
    assert "Requires-Dist: spacy-lstm-tagger" in requirements
    assert_wheel_says_what_it_is(model_wheel)

    run("-m", "build", "--wheel", "--outdir", tmp_path / "plugin", ROOT)
    (plugin_wheel,) = (tmp_path / "plugin").glob("*.whl")
    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    run("-m", "pip", "install", "--quiet", "torch==2.13.0", python=python)
    run("-m", "pip", "install", "--quiet", plugin_wheel, model_wheel, python=python)
    code = (
        "import spacy; nlp = spacy.load('en_lstm_test'); "
        "import spacy_lstm_tagger; print(spacy_lstm_tagger.__file__); "
        "print(' '.join(t.tag_ for t in nlp('The dog ate the apple')))"
    )
    location, tags = run("-c", code, cwd=tmp_path, python=python).strip().splitlines()
    assert str(env) in location
    assert tags == "DET NN V DET NN"
    assert "tag-corpus" in run("-m", "spacy", "lstm-tagger", "--help", cwd=tmp_path, python=python)
