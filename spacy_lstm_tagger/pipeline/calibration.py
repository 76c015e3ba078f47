"""Fit each lstm_tagger's temperature on gold-tagged data: a `spacy train` callback, and what the
`calibrate` command runs.

The default config runs the callback before every save of `spacy train`, so model-best and
model-last keep a temperature fitted on the dev corpus to their own weights:

    [training.before_to_disk]
    @callbacks = "spacy_lstm_tagger.calibrate_temperature.v1"
    path = ${paths.dev}

A pipeline saved without one (an older model, or a config without the callback) gets one with:

    python -m spacy lstm-tagger calibrate MODEL DEV.spacy --output CALIBRATED_MODEL
"""
from pathlib import Path
from typing import Callable, Dict, List

import numpy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import logger, minibatch, registry

from .component import LSTMTagger
from .temperature import TEMPERATURE, fit_temperature

BATCH_SIZE = 256


@registry.callbacks("spacy_lstm_tagger.calibrate_temperature.v1")
def make_calibrate_temperature(path: str) -> Callable[[Language], Language]:
    """A `[training.before_to_disk]` callback: fit every lstm_tagger's temperature on `path`.

    path (str): A .spacy file with gold tags, usually `${paths.dev}`; its gold tokens are tagged.
    RETURNS (Callable[[Language], Language]): Fits the temperatures in place, returns the pipeline.
    """
    cache: Dict[int, List[Doc]] = {}

    def calibrate_temperature(nlp: Language) -> Language:
        if id(nlp.vocab) not in cache:
            cache.clear()
            cache[id(nlp.vocab)] = read_gold_docs(Path(path), nlp)
        calibrate(nlp, cache[id(nlp.vocab)], source=str(path))
        return nlp

    return calibrate_temperature


def read_gold_docs(path: Path, nlp: Language) -> List[Doc]:
    """The gold-tagged Docs of a .spacy file."""
    if not path.exists():
        raise ValueError(f"lstm_tagger: no calibration data at {path} (a .spacy file with gold tags)")
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def calibrate(nlp: Language, gold_docs: List[Doc], source: str = "the gold Docs") -> Dict[str, float]:
    """Fit and set the temperature of every lstm_tagger in `nlp` on the gold tags of `gold_docs`.

    RETURNS (Dict[str, float]): Each calibrated component's name and temperature.
    """
    taggers = [(name, pipe) for name, pipe in nlp.pipeline if isinstance(pipe, LSTMTagger)]
    if not taggers:
        raise ValueError("lstm_tagger: the pipeline has no lstm_tagger to calibrate")
    fitted = {}
    for name, tagger in taggers:
        probabilities, gold = gold_probabilities(nlp, name, gold_docs)
        if not len(gold):
            raise ValueError(f"lstm_tagger: {source} has no tokens with a tag of {name}'s labels to calibrate on")
        tagger.cfg[TEMPERATURE] = fitted[name] = fit_temperature(probabilities, gold)
        logger.info("%s: temperature %.4f fitted on %d tokens of %s", name, fitted[name], len(gold), source)
    return fitted


def gold_probabilities(nlp: Language, name: str, gold_docs: List[Doc]):
    """The uncalibrated probabilities the component `name` gives the gold words of `gold_docs`
    (after the components before it), and each token's gold label column, for tokens whose
    gold tag is one of its labels.

    RETURNS (Tuple[numpy.ndarray, numpy.ndarray]): (n_tokens, n_labels) float32, (n_tokens,) int64.
    """
    tagger = nlp.get_pipe(name)
    columns = {label: i for i, label in enumerate(tagger.labels)}
    before = nlp.pipe_names[: nlp.pipe_names.index(name)]
    probabilities, gold = [], []
    for batch in minibatch(gold_docs, BATCH_SIZE):
        inputs = [Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
                  for doc in batch]
        for component in before:
            proc = nlp.get_pipe(component)
            inputs = list(proc.pipe(inputs)) if hasattr(proc, "pipe") else [proc(doc) for doc in inputs]
        for doc, scores in zip(batch, tagger.predict_uncalibrated(inputs)):
            keep = [i for i, token in enumerate(doc) if token.tag_ in columns]
            probabilities.append(scores[keep])
            gold.extend(columns[doc[i].tag_] for i in keep)
    n_labels = len(tagger.labels)
    flat = numpy.concatenate(probabilities) if probabilities else numpy.zeros((0, n_labels), dtype="f")
    return flat, numpy.asarray(gold, dtype="int64")
