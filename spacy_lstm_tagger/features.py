"""Thinc layer that turns Docs into feature ids: one known-value table per token feature."""
from functools import lru_cache
from itertools import chain
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import IDS as ATTR_IDS
from spacy.attrs import LOWER
from spacy.strings import get_string_id
from spacy.tokens import Doc
from thinc.api import Model

FeatureIds = Tuple[numpy.ndarray, numpy.ndarray]


def doc_features(
    attrs: Sequence[str],
    prefix_lengths: Sequence[int],
    suffix_lengths: Sequence[int],
    min_freq: int,
) -> Model[List[Doc], FeatureIds]:
    """Map each token's features to rows of per-feature tables.

    The features are the token attributes in `attrs`, then the lowercase prefixes
    and suffixes of the given lengths. The tables hold the values seen at least
    `min_freq` times in the data given to `initialize`; any other value gets row 0,
    the unknown row.

    attrs (Sequence[str]): spaCy token attributes, e.g. ["NORM", "SHAPE"].
    prefix_lengths (Sequence[int]): Lengths of the lowercase prefixes to use, e.g. [1, 2, 3].
    suffix_lengths (Sequence[int]): Lengths of the lowercase suffixes to use, e.g. [1, 2, 3, 4].
    min_freq (int): How often a value must occur in the initialization data to get a row.
    RETURNS: A layer whose output is `(ids, lengths)`: int64 ids (n_tokens, n_features)
        of all Docs laid end to end, and each Doc's length.
    """
    unknown = [name for name in attrs if name.upper() not in ATTR_IDS]
    if unknown:
        raise ValueError(f"lstm_tagger: attrs must name spaCy token attributes; unknown: {unknown}")
    affix_lengths = [*prefix_lengths, *suffix_lengths]
    if not attrs and not affix_lengths:
        raise ValueError("lstm_tagger: give at least one feature in attrs, prefix_lengths or suffix_lengths")
    if any(not isinstance(n, int) or n < 1 for n in affix_lengths):
        raise ValueError(f"lstm_tagger: affix lengths must be positive integers, got {affix_lengths}")
    if not isinstance(min_freq, int) or min_freq < 1:
        raise ValueError(f"lstm_tagger: min_freq must be a positive integer, got {min_freq}")
    return Model(
        "doc_features",
        forward,
        init=init,
        attrs={
            "attr_ids": [ATTR_IDS[name.upper()] for name in attrs],
            "prefix_lengths": list(prefix_lengths),
            "suffix_lengths": list(suffix_lengths),
            "min_freq": min_freq,
            "tables": None,
        },
    )


def n_features(model: Model) -> int:
    """Number of feature columns the layer outputs."""
    attrs = model.attrs
    return len(attrs["attr_ids"]) + len(attrs["prefix_lengths"]) + len(attrs["suffix_lengths"])


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    """Build the value tables from the Docs in X, unless they exist already."""
    if model.attrs["tables"] is None and X is not None:
        model.attrs["tables"] = build_tables(model, X)


def build_tables(model: Model, docs: Iterable[Doc]) -> List[numpy.ndarray]:
    """Return, per feature, the sorted uint64 values that occur at least min_freq times."""
    values = _batch_values(model, list(docs))
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
    values = _batch_values(model, docs)
    ids = numpy.empty(values.shape, dtype="int64")
    for i, keys in enumerate(tables):
        ids[:, i] = _lookup(keys, values[:, i])
    return (ids, lengths), lambda d_ids: []


def _batch_values(model: Model, docs: List[Doc]) -> numpy.ndarray:
    """The uint64 feature values (n_tokens, n_features) of the Docs' tokens, laid end to end."""
    attr_ids = model.attrs["attr_ids"]
    docs = [doc for doc in docs if len(doc)]
    if not docs:
        return numpy.zeros((0, n_features(model)), dtype="uint64")
    columns = []
    if attr_ids:
        columns.append(numpy.concatenate([doc.to_array(attr_ids).reshape((len(doc), -1)) for doc in docs]))
    if model.attrs["prefix_lengths"] or model.attrs["suffix_lengths"]:
        columns.append(_affix_values(model, docs))
    return numpy.hstack(columns)


def _affix_values(model: Model, docs: List[Doc]) -> numpy.ndarray:
    """Hashes of each token's lowercase prefixes and suffixes, computed once per word type."""
    lowers = numpy.concatenate([doc.to_array(LOWER) for doc in docs])
    types, inverse = numpy.unique(lowers, return_inverse=True)
    strings = docs[0].vocab.strings
    prefixes, suffixes = tuple(model.attrs["prefix_lengths"]), tuple(model.attrs["suffix_lengths"])
    hashes = chain.from_iterable(_affix_hashes(strings[key], prefixes, suffixes) for key in types)
    rows = numpy.fromiter(hashes, dtype="uint64", count=len(types) * (len(prefixes) + len(suffixes)))
    return rows.reshape((len(types), -1))[inverse.reshape(-1)]


@lru_cache(maxsize=200_000)
def _affix_hashes(text: str, prefix_lengths: Tuple[int, ...], suffix_lengths: Tuple[int, ...]) -> Tuple[int, ...]:
    # The length goes into the hashed string so that, say, a 3-letter word's prefix
    # and suffix of length 3 are different features.
    return tuple(
        [get_string_id(f"{n}<{text[:n]}") for n in prefix_lengths]
        + [get_string_id(f"{n}>{text[-n:]}") for n in suffix_lengths]
    )


def _lookup(keys: numpy.ndarray, values: numpy.ndarray) -> numpy.ndarray:
    """Row of each value in keys, plus one; 0 where the value is not in keys."""
    if len(keys) == 0:
        return numpy.zeros(len(values), dtype="int64")
    positions = numpy.searchsorted(keys, values)
    clipped = numpy.minimum(positions, len(keys) - 1)
    return numpy.where(keys[clipped] == values, clipped + 1, 0)
