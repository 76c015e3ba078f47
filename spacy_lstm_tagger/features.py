"""Thinc layer that turns Docs into feature ids: one known-value table per token feature,
and optionally each word's characters."""
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
    char_length: int = 0,
) -> Model[List[Doc], FeatureIds]:
    """Map each token's features to rows of per-feature tables.

    The features are the token attributes in `attrs`, then the lowercase prefixes
    and suffixes of the given lengths. The tables hold the values seen at least
    `min_freq` times in the data given to `initialize`; any other value gets row 0,
    the unknown row. With `char_length`, the last columns hold the ids of the lowercase
    word's characters (its first and last ones if it is longer): 0 pads, 1 is an unknown
    character, and the known characters are those seen at least `min_freq` times.

    attrs (Sequence[str]): spaCy token attributes, e.g. ["NORM", "SHAPE"].
    prefix_lengths (Sequence[int]): Lengths of the lowercase prefixes to use, e.g. [1, 2, 3].
    suffix_lengths (Sequence[int]): Lengths of the lowercase suffixes to use, e.g. [1, 2, 3, 4].
    min_freq (int): How often a value must occur in the initialization data to get a row.
    char_length (int): Characters read from each word (0: none).
    RETURNS: A layer whose output is `(ids, lengths)`: int64 ids (n_tokens, n_columns)
        of all Docs laid end to end, and each Doc's length.
    """
    unknown = [name for name in attrs if name.upper() not in ATTR_IDS]
    if unknown:
        raise ValueError(f"lstm_tagger: attrs must name spaCy token attributes; unknown: {unknown}")
    affix_lengths = [*prefix_lengths, *suffix_lengths]
    if not attrs and not affix_lengths and not char_length:
        raise ValueError(
            "lstm_tagger: give at least one feature in attrs, prefix_lengths or suffix_lengths, or a char_width"
        )
    if any(not isinstance(n, int) or n < 1 for n in affix_lengths):
        raise ValueError(f"lstm_tagger: affix lengths must be positive integers, got {affix_lengths}")
    if not isinstance(min_freq, int) or min_freq < 1:
        raise ValueError(f"lstm_tagger: min_freq must be a positive integer, got {min_freq}")
    if not isinstance(char_length, int) or char_length < 0:
        raise ValueError(f"lstm_tagger: char_length must be a non-negative integer, got {char_length}")
    return Model(
        "doc_features",
        forward,
        init=init,
        attrs={
            "attr_ids": [ATTR_IDS[name.upper()] for name in attrs],
            "prefix_lengths": list(prefix_lengths),
            "suffix_lengths": list(suffix_lengths),
            "min_freq": min_freq,
            "char_length": char_length,
            "tables": None,
            "affix_ids": TypeIdCache(),  # the name saved models carry: it held only affixes once
        },
    )


def n_features(model: Model) -> int:
    """Number of embedded feature columns the layer outputs (the character columns follow)."""
    attrs = model.attrs
    return len(attrs["attr_ids"]) + len(attrs["prefix_lengths"]) + len(attrs["suffix_lengths"])


def n_columns(model: Model) -> int:
    """Number of id columns the layer outputs: the features, then the characters."""
    return n_features(model) + model.attrs["char_length"]


def table_sizes(model: Model) -> List[int]:
    """Rows each embedding table needs: one per feature, then the character table if any."""
    tables = model.attrs["tables"]
    sizes = [len(keys) + 1 for keys in tables[: n_features(model)]]  # + the unknown row
    if model.attrs["char_length"]:
        sizes.append(len(tables[-1]) + 2)  # + the padding and unknown rows
    return sizes


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    """Build the value tables from the Docs in X, unless they exist already."""
    if model.attrs["tables"] is None and X is not None:
        model.attrs["tables"] = build_tables(model, X)


def build_tables(model: Model, docs: Iterable[Doc]) -> List[numpy.ndarray]:
    """Return, per feature (then for the characters, if used), the sorted uint64 values
    that occur at least min_freq times."""
    n_tables = n_features(model) + (1 if model.attrs["char_length"] else 0)
    docs = [doc for doc in docs if len(doc)]
    if not docs:
        return [numpy.zeros(0, dtype="uint64") for _ in range(n_tables)]
    min_freq = model.attrs["min_freq"]
    attr_values, lowers = _token_values(model, docs)
    columns = list(attr_values.T)
    if lowers is not None:
        types, inverse = numpy.unique(lowers, return_inverse=True)
        texts = [docs[0].vocab.strings[key] for key in types]
        columns += list(_affix_values(model, texts)[inverse.reshape(-1)].T)
    tables = []
    for column in columns:
        keys, counts = numpy.unique(column, return_counts=True)
        tables.append(keys[counts >= min_freq])
    if model.attrs["char_length"]:
        tables.append(_frequent_chars(texts, numpy.bincount(inverse.reshape(-1)), min_freq))
    return tables


def _frequent_chars(texts: List[str], token_counts: numpy.ndarray, min_freq: int) -> numpy.ndarray:
    """The sorted code points that occur at least min_freq times in the tokens, given
    each word type's text and its number of tokens."""
    codes = _code_points(texts)
    weights = numpy.repeat(token_counts, [len(text) for text in texts])
    keys, inverse = numpy.unique(codes, return_inverse=True)
    counts = numpy.bincount(inverse.reshape(-1), weights=weights, minlength=len(keys))
    return keys[counts >= min_freq]


def forward(model: Model, docs: List[Doc], is_train: bool):
    tables = model.attrs["tables"]
    if tables is None:
        raise ValueError("lstm_tagger: the feature tables are missing; initialize the model first")
    lengths = numpy.asarray([len(doc) for doc in docs], dtype="int64")
    ids = numpy.empty((int(lengths.sum()), n_columns(model)), dtype="int64")
    docs = [doc for doc in docs if len(doc)]
    if docs:
        attr_values, lowers = _token_values(model, docs)
        n_attrs = attr_values.shape[1]
        for i in range(n_attrs):
            ids[:, i] = lookup_rows(tables[i], attr_values[:, i])
        if lowers is not None:
            # Affixes and characters are a function of the lowercase form: look them up
            # once per word type.
            types, inverse = numpy.unique(lowers, return_inverse=True)
            type_ids = model.attrs["affix_ids"].lookup(model, types, docs[0].vocab.strings)
            ids[:, n_attrs:] = type_ids[inverse.reshape(-1)]
    return (ids, lengths), lambda d_ids: []


def _token_values(model: Model, docs: List[Doc]) -> Tuple[numpy.ndarray, Optional[numpy.ndarray]]:
    """The attrs' uint64 values (n_tokens, n_attrs) of the non-empty Docs laid end to end,
    and each token's LOWER value if affixes or characters are used (else None); one
    to_array per Doc."""
    attr_ids = model.attrs["attr_ids"]
    use_lower = n_columns(model) > len(attr_ids)
    columns = attr_ids + [LOWER] if use_lower else attr_ids
    values = numpy.concatenate([doc.to_array(columns) for doc in docs])  # a list of attrs: 2D arrays
    if not use_lower:
        return values, None
    return values[:, : len(attr_ids)], values[:, -1]


def _affix_values(model: Model, texts: List[str]) -> numpy.ndarray:
    """Hashes (n_types, n_affixes) of the prefixes and suffixes of each lowercase word type."""
    prefixes, suffixes = tuple(model.attrs["prefix_lengths"]), tuple(model.attrs["suffix_lengths"])
    hashes = chain.from_iterable(_affix_hashes(text, prefixes, suffixes) for text in texts)
    rows = numpy.fromiter(hashes, dtype="uint64", count=len(texts) * (len(prefixes) + len(suffixes)))
    return rows.reshape((len(texts), -1))


def _char_ids(texts: List[str], chars: numpy.ndarray, length: int) -> numpy.ndarray:
    """Character ids (n_types, length) of each lowercase word type: 0 pads, 1 is unknown.
    A word longer than `length` is read as its first and last `length / 2` characters."""
    head = length // 2
    tail = length - head
    texts = [text if len(text) <= length else text[:head] + text[-tail:] for text in texts]
    text_lengths = numpy.asarray([len(text) for text in texts], dtype="int64")
    rows = numpy.repeat(numpy.arange(len(texts)), text_lengths)
    columns = numpy.arange(len(rows)) - numpy.repeat(text_lengths.cumsum() - text_lengths, text_lengths)
    ids = numpy.zeros((len(texts), length), dtype="int64")
    ids[rows, columns] = lookup_rows(chars, _code_points(texts)) + 1
    return ids


def _code_points(texts: List[str]) -> numpy.ndarray:
    """The code points of all the texts, laid end to end, as uint64."""
    return numpy.fromiter(map(ord, "".join(texts)), dtype="uint64")


class TypeIdCache:
    """The affix and character ids of the word types seen so far, by LOWER value, for one
    set of tables.

    Held in sorted arrays, so that a batch finds all its word types with one search; a new
    type's affixes and characters are looked up once, then merged in. It starts again when the
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
            new_ids = _type_ids(model, [strings[key] for key in new_types])
            ids = new_ids if ids is None else numpy.insert(ids, at, new_ids, axis=0)
            keys = numpy.insert(keys, at, new_types)
            self._state = (keys, ids)
            positions = numpy.searchsorted(keys, types)
        return ids[positions]


def _type_ids(model: Model, texts: List[str]) -> numpy.ndarray:
    """Affix ids, then character ids, (n_types, n_columns - n_attrs) of lowercase word types."""
    tables = model.attrs["tables"]
    affix_tables = tables[len(model.attrs["attr_ids"]) : n_features(model)]
    hashes = _affix_values(model, texts)
    ids = [lookup_rows(table, hashes[:, j])[:, None] for j, table in enumerate(affix_tables)]
    if model.attrs["char_length"]:
        ids.append(_char_ids(texts, tables[-1], model.attrs["char_length"]))
    return numpy.concatenate(ids, axis=1) if ids else numpy.zeros((len(texts), 0), dtype="int64")


@serialize_attr.register(TypeIdCache)
def _serialize_cache(_: TypeIdCache, value: TypeIdCache, name: str, model: Model) -> bytes:
    return b""  # a cache: not saved


@deserialize_attr.register(TypeIdCache)
def _deserialize_cache(_: TypeIdCache, value: bytes, name: str, model: Model) -> TypeIdCache:
    return TypeIdCache()


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
