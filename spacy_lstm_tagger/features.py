"""Thinc layer that turns Docs into feature ids: one known-value table per token feature."""
from itertools import chain
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import IDS as ATTR_IDS
from spacy.attrs import LOWER
from spacy.strings import get_string_id
from spacy.tokens import Doc
from thinc.api import Model, deserialize_attr, serialize_attr

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
            "affix_ids": AffixIdCache(),
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
    docs = [doc for doc in docs if len(doc)]
    if not docs:
        return [numpy.zeros(0, dtype="uint64") for _ in range(n_features(model))]
    attr_values, lowers = _token_values(model, docs)
    columns = list(attr_values.T)
    if lowers is not None:
        types, inverse = numpy.unique(lowers, return_inverse=True)
        columns += list(_affix_values(model, types, docs[0].vocab.strings)[inverse.reshape(-1)].T)
    tables = []
    for column in columns:
        keys, counts = numpy.unique(column, return_counts=True)
        tables.append(keys[counts >= model.attrs["min_freq"]])
    return tables


def forward(model: Model, docs: List[Doc], is_train: bool):
    tables = model.attrs["tables"]
    if tables is None:
        raise ValueError("lstm_tagger: the feature tables are missing; initialize the model first")
    lengths = numpy.asarray([len(doc) for doc in docs], dtype="int64")
    ids = numpy.empty((int(lengths.sum()), n_features(model)), dtype="int64")
    docs = [doc for doc in docs if len(doc)]
    if docs:
        attr_values, lowers = _token_values(model, docs)
        n_attrs = attr_values.shape[1]
        for i in range(n_attrs):
            ids[:, i] = lookup_rows(tables[i], attr_values[:, i])
        if lowers is not None:
            # Affixes are a function of the lowercase form: look them up once per word type.
            types, inverse = numpy.unique(lowers, return_inverse=True)
            type_ids = model.attrs["affix_ids"].lookup(model, types, docs[0].vocab.strings)
            ids[:, n_attrs:] = type_ids[inverse.reshape(-1)]
    return (ids, lengths), lambda d_ids: []


def _token_values(model: Model, docs: List[Doc]) -> Tuple[numpy.ndarray, Optional[numpy.ndarray]]:
    """The attrs' uint64 values (n_tokens, n_attrs) of the non-empty Docs laid end to end,
    and each token's LOWER value if affixes are used (else None); one to_array per Doc."""
    attr_ids = model.attrs["attr_ids"]
    use_affixes = bool(model.attrs["prefix_lengths"] or model.attrs["suffix_lengths"])
    columns = attr_ids + [LOWER] if use_affixes else attr_ids
    values = numpy.concatenate([doc.to_array(columns) for doc in docs])  # a list of attrs: 2D arrays
    if not use_affixes:
        return values, None
    return values[:, : len(attr_ids)], values[:, -1]


def _affix_values(model: Model, types: numpy.ndarray, strings) -> numpy.ndarray:
    """Hashes (n_types, n_affixes) of the lowercase prefixes and suffixes of each word type."""
    prefixes, suffixes = tuple(model.attrs["prefix_lengths"]), tuple(model.attrs["suffix_lengths"])
    hashes = chain.from_iterable(_affix_hashes(strings[key], prefixes, suffixes) for key in types)
    rows = numpy.fromiter(hashes, dtype="uint64", count=len(types) * (len(prefixes) + len(suffixes)))
    return rows.reshape((len(types), -1))


class AffixIdCache:
    """The affix feature ids of the word types seen so far, by LOWER value, for one set of tables.

    Held in sorted arrays, so that a batch finds all its word types with one search; a new
    type's affixes are hashed and looked up once, then merged in. It starts again when the
    tables change or when it holds `max_types` types. It is not saved with the model.
    """

    def __init__(self, max_types: int = 200_000) -> None:
        self.max_types = max_types
        self._tables: Optional[List[numpy.ndarray]] = None
        self._state = (numpy.zeros(0, dtype="uint64"), None)  # (sorted LOWER values, their ids)

    def lookup(self, model: Model, types: numpy.ndarray, strings) -> numpy.ndarray:
        """Affix ids (n_types, n_affixes) of the sorted, unique LOWER values `types`."""
        tables = model.attrs["tables"]
        keys, ids = self._state
        if tables is not self._tables or len(keys) + len(types) > self.max_types:
            self._tables, keys, ids = tables, keys[:0], None
        positions = numpy.searchsorted(keys, types)
        known = positions < len(keys)
        known[known] = keys[positions[known]] == types[known]
        if not known.all():
            new_types, at = types[~known], positions[~known]
            hashes = _affix_values(model, new_types, strings)
            affix_tables = tables[len(model.attrs["attr_ids"]) :]
            new_ids = numpy.stack(
                [lookup_rows(table, hashes[:, j]) for j, table in enumerate(affix_tables)], axis=1
            )
            ids = new_ids if ids is None else numpy.insert(ids, at, new_ids, axis=0)
            keys = numpy.insert(keys, at, new_types)
            self._state = (keys, ids)
            positions = numpy.searchsorted(keys, types)
        return ids[positions]


@serialize_attr.register(AffixIdCache)
def _serialize_cache(_: AffixIdCache, value: AffixIdCache, name: str, model: Model) -> bytes:
    return b""  # a cache: not saved


@deserialize_attr.register(AffixIdCache)
def _deserialize_cache(_: AffixIdCache, value: bytes, name: str, model: Model) -> AffixIdCache:
    return AffixIdCache()


def _affix_hashes(text: str, prefix_lengths: Tuple[int, ...], suffix_lengths: Tuple[int, ...]) -> Tuple[int, ...]:
    # The length goes into the hashed string so that, say, a 3-letter word's prefix
    # and suffix of length 3 are different features.
    return tuple(
        [get_string_id(f"{n}<{text[:n]}") for n in prefix_lengths]
        + [get_string_id(f"{n}>{text[-n:]}") for n in suffix_lengths]
    )


def lookup_rows(keys: numpy.ndarray, values: numpy.ndarray) -> numpy.ndarray:
    """Row of each value in the sorted array keys, plus one; 0 where the value is not in keys."""
    if len(keys) == 0:
        return numpy.zeros(len(values), dtype="int64")
    positions = numpy.searchsorted(keys, values)
    clipped = numpy.minimum(positions, len(keys) - 1)
    return numpy.where(keys[clipped] == values, clipped + 1, 0)
