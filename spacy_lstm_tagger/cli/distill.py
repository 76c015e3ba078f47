"""`distill`: train a student pipeline with spacy train, on the teachers' probabilities."""
from pathlib import Path
from typing import Dict, List

from spacy.util import load_config
from thinc.api import Config

READER = "spacy_lstm_tagger.DistillationCorpus.v1"


def distill(config_path: Path, output: Path, teachers: List[Path], raw_text: List[Path], cache: Path,
            gpu_id: int, overrides: Dict) -> None:
    """Write OUTPUT/distill.cfg (CONFIG with the distillation reader as its training corpus) and
    train it with spacy train; then give the saved pipelines CONFIG's own training corpus back."""
    from spacy.cli.train import train

    config = load_config(config_path, interpolate=False)
    student_corpus = dict(config["corpora"]["train"])
    config["corpora"]["train"] = {
        "@readers": READER,
        "path": student_corpus.get("path", "${paths.train}"),
        "teachers": [str(Path(t).resolve()) for t in teachers],
        "cache": str(Path(cache).resolve()),
        "raw_text": [str(Path(r).resolve()) for r in raw_text],
        "gold_preproc": student_corpus.get("gold_preproc", False),
        "limit": student_corpus.get("limit", 0),
        "raw_limit": 0,
        "gold_repeats": 0,
    }
    config = Config().from_str(config.to_str(), overrides=overrides, interpolate=False)  # overrides reach the reader
    output.mkdir(parents=True, exist_ok=True)
    distill_config = output / "distill.cfg"
    config.to_disk(distill_config)
    train(distill_config, output, use_gpu=gpu_id)
    for saved in ("model-best", "model-last"):
        _forget_teachers(output / saved / "config.cfg", student_corpus)


def _forget_teachers(path: Path, corpus: Dict) -> None:
    """Put the student config's own training corpus back into a saved pipeline's config, so that
    nothing in the pipeline names the teachers or the cache."""
    if not path.exists():
        return
    config = load_config(path, interpolate=False)
    config["corpora"]["train"] = corpus
    config.to_disk(path)
