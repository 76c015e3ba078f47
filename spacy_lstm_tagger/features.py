"""Thinc layer that turns Docs into feature ids: one known-value table per token attribute."""
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import IDS as ATTR_IDS
from spacy.tokens import Doc
from thinc.api import Model

FeatureIds = Tuple[numpy.ndarray, numpy.ndarray]


def doc_features(attrs: Sequence[str], min_freq: int) -> Model[List[Doc], FeatureIds]:
    """Map each token's attributes to rows of per-attribute tables.

    The tables hold the attribute values seen at least `min_freq` times in the
    data given to `initialize`; any other value gets row 0, the unknown row.

    attrs (Sequence[str]): spaCy token attributes, e.g. ["NORM", "PREFIX", "SUFFIX", "SHAPE"].
    min_freq (int): How often a value must occur in the initialization data to get a row.
    RETURNS: A layer whose output is `(ids, lengths)`: int64 ids (n_tokens, len(attrs))
        of all Docs laid end to end, and each Doc's length.
    """
    unknown = [name for name in attrs if name.upper() not in ATTR_IDS]
    if not attrs or unknown:
        raise ValueError(f"lstm_tagger: attrs must name spaCy token attributes; unknown: {unknown or attrs}")
    if min_freq < 1:
        raise ValueError(f"lstm_tagger: min_freq must be at least 1, got {min_freq}")
    return Model(
        "doc_features",
        forward,
        init=init,
        attrs={
            "attr_ids": [ATTR_IDS[name.upper()] for name in attrs],
            "min_freq": min_freq,
            "tables": None,
        },
    )


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    """Build the value tables from the Docs in X, unless they exist already."""
    if model.attrs["tables"] is None and X is not None:
        model.attrs["tables"] = build_tables(model, X)


def build_tables(model: Model, docs: Iterable[Doc]) -> List[numpy.ndarray]:
    """Return, per attribute, the sorted uint64 values that occur at least min_freq times."""
    n_attrs = len(model.attrs["attr_ids"])
    arrays = [_doc_values(model, doc) for doc in docs]
    values = numpy.concatenate(arrays) if arrays else numpy.zeros((0, n_attrs), dtype="uint64")
    tables = []
    for column in values.T:
        keys, counts = numpy.unique(column, return_counts=True)
        tables.append(keys[counts >= model.attrs["min_freq"]])
    return tables


def forward(model: Model, docs: List[Doc], is_train: bool):
    tables = model.attrs["tables"]
    if tables is None:
        raise ValueError("lstm_tagger: the feature tables are missing; initialize the model first")
    lengths = numpy.asarray([len(doc) for doc in docs], dtype="int64")
    values = [_doc_values(model, doc) for doc in docs if len(doc)]
    if values:
        values = numpy.concatenate(values)
    else:
        values = numpy.zeros((0, len(tables)), dtype="uint64")
    ids = numpy.empty(values.shape, dtype="int64")
    for i, keys in enumerate(tables):
        ids[:, i] = _lookup(keys, values[:, i])
    return (ids, lengths), lambda d_ids: []


def _doc_values(model: Model, doc: Doc) -> numpy.ndarray:
    values = doc.to_array(model.attrs["attr_ids"])
    return values.reshape((len(doc), len(model.attrs["attr_ids"])))


def _lookup(keys: numpy.ndarray, values: numpy.ndarray) -> numpy.ndarray:
    """Row of each value in keys, plus one; 0 where the value is not in keys."""
    if len(keys) == 0:
        return numpy.zeros(len(values), dtype="int64")
    positions = numpy.searchsorted(keys, values)
    clipped = numpy.minimum(positions, len(keys) - 1)
    return numpy.where(keys[clipped] == values, clipped + 1, 0)
