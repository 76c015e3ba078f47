"""Thinc layer that turns Docs into feature ids: one known-value table per token feature,
optionally each word's characters, and optionally hashed rows for values never seen before."""
from itertools import chain
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import IDS as ATTR_IDS
from spacy.attrs import LOWER
from spacy.strings import get_string_id
from spacy.tokens import Doc
from thinc.api import Model

from ..arrays import lookup_rows
from ..pytorch.columns import NEW_VALUE_HASHES, IdColumns
from .type_cache import TypeIdCache

FeatureIds = Tuple[numpy.ndarray, numpy.ndarray]


def doc_features(
    attrs: Sequence[str],
    prefix_lengths: Sequence[int],
    suffix_lengths: Sequence[int],
    min_freq: int,
    char_length: int = 0,
    new_value_rows: int = 0,
) -> Model[List[Doc], FeatureIds]:
    """Map each token's features to rows of per-feature tables.

    The features are the token attributes in `attrs`, then the lowercase prefixes
    and suffixes of the given lengths. The tables hold the values seen at least
    `min_freq` times in the data given to `initialize`; any other value gets row 0,
    the unknown row. With `char_length`, the next columns hold the ids of the lowercase
    word's characters (its first and last ones if it is longer): 0 pads, 1 is an unknown
    character, and the known characters are those seen at least `min_freq` times.
    With `new_value_rows`, the last columns hold, for each feature, NEW_VALUE_HASHES hashed
    rows (1 to new_value_rows) of a value that the data given to `initialize` never showed,
    and 0 for a value it showed: so a word first seen later can be learned.

    attrs (Sequence[str]): spaCy token attributes, e.g. ["NORM", "SHAPE"].
    prefix_lengths (Sequence[int]): Lengths of the lowercase prefixes to use, e.g. [1, 2, 3].
    suffix_lengths (Sequence[int]): Lengths of the lowercase suffixes to use, e.g. [1, 2, 3, 4].
    min_freq (int): How often a value must occur in the initialization data to get a row.
    char_length (int): Characters read from each word (0: none).
    new_value_rows (int): Rows of the hashed table for new values (0: none).
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
    for name, value in (("char_length", char_length), ("new_value_rows", new_value_rows)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"lstm_tagger: {name} must be a non-negative integer, got {value}")
    attributes = {
        "attr_ids": [ATTR_IDS[name.upper()] for name in attrs],
        "prefix_lengths": list(prefix_lengths),
        "suffix_lengths": list(suffix_lengths),
        "min_freq": min_freq,
        "char_length": char_length,
        "tables": None,
        "affix_ids": TypeIdCache(),  # the name saved models carry (it also holds the character ids)
    }
    if new_value_rows:
        attributes.update(new_value_rows=new_value_rows, seen_rarely=None)
    return Model("doc_features", forward, init=init, attrs=attributes)


def id_columns(model: Model) -> IdColumns:
    """The layout of the id matrix the layer outputs, which the network reads."""
    attrs = model.attrs
    n_features = len(attrs["attr_ids"]) + len(attrs["prefix_lengths"]) + len(attrs["suffix_lengths"])
    return IdColumns(n_features, attrs["char_length"], bool(attrs.get("new_value_rows")))


def n_features(model: Model) -> int:
    """Number of embedded feature columns the layer outputs (the character columns follow)."""
    return id_columns(model).n_features


def table_sizes(model: Model) -> List[int]:
    """Rows each embedding table needs: one per feature, then the character table if any."""
    tables = model.attrs["tables"]
    sizes = [len(keys) + 1 for keys in tables[: n_features(model)]]  # + the unknown row
    if model.attrs["char_length"]:
        sizes.append(len(tables[-1]) + 2)  # + the padding and unknown rows
    return sizes


def init(model: Model, X: Optional[Iterable[Doc]] = None, Y=None) -> None:
    """Build the value tables from the Docs in X (none: empty tables)."""
    tables, seen_rarely = build_tables(model, X or [])
    model.attrs["tables"] = tables
    if "seen_rarely" in model.attrs:
        model.attrs["seen_rarely"] = seen_rarely


def build_tables(model: Model, docs: Iterable[Doc]) -> Tuple[List[numpy.ndarray], List[numpy.ndarray]]:
    """Per feature (then for the characters, if used), the sorted uint64 values that occur at
    least min_freq times; and per feature, the sorted values that occur less often. The Docs are
    counted CHUNK_DOCS at a time, so that a large text need not be held whole."""
    n_tables = n_features(model) + (1 if model.attrs["char_length"] else 0)
    counted: List[List[Tuple[numpy.ndarray, numpy.ndarray]]] = [[] for _ in range(n_tables)]
    for chunk in _chunks((doc for doc in docs if len(doc)), CHUNK_DOCS):
        for table, keys_and_counts in zip(counted, _count_values(model, chunk)):
            table.append(keys_and_counts)
    min_freq = model.attrs["min_freq"]
    tables, seen_rarely = [], []
    for j, parts in enumerate(counted):
        keys, counts = _merge_counts(parts)
        tables.append(keys[counts >= min_freq])
        if j < n_features(model):
            seen_rarely.append(keys[counts < min_freq])
    return tables, seen_rarely


CHUNK_DOCS = 20_000


def _chunks(docs: Iterable[Doc], size: int) -> Iterator[List[Doc]]:
    chunk = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count_values(model: Model, docs: List[Doc]) -> List[Tuple[numpy.ndarray, numpy.ndarray]]:
    """Per feature (then for the characters, if used), the distinct values in the Docs and
    their counts."""
    attr_values, lowers = _token_values(model, docs)
    columns = list(attr_values.T)
    if lowers is not None:
        types, inverse = numpy.unique(lowers, return_inverse=True)
        texts = [docs[0].vocab.strings[key] for key in types]
        columns += list(_affix_values(model, texts)[inverse.reshape(-1)].T)
    counted = [numpy.unique(column, return_counts=True) for column in columns]
    if model.attrs["char_length"]:
        counted.append(_char_counts(texts, numpy.bincount(inverse.reshape(-1))))
    return counted


def _merge_counts(parts: List[Tuple[numpy.ndarray, numpy.ndarray]]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The sorted distinct keys of several (keys, counts) pairs, and their summed counts."""
    if not parts:
        return numpy.zeros(0, dtype="uint64"), numpy.zeros(0, dtype="int64")
    if len(parts) == 1:
        return parts[0]
    keys, inverse = numpy.unique(numpy.concatenate([keys for keys, _ in parts]), return_inverse=True)
    counts = numpy.bincount(inverse.reshape(-1), weights=numpy.concatenate([c for _, c in parts]), minlength=len(keys))
    return keys, counts.astype("int64")


def _char_counts(texts: List[str], token_counts: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The sorted code points in the tokens and their counts, given each word type's text and
    its number of tokens."""
    codes = _code_points(texts)
    weights = numpy.repeat(token_counts, [len(text) for text in texts])
    keys, inverse = numpy.unique(codes, return_inverse=True)
    counts = numpy.bincount(inverse.reshape(-1), weights=weights, minlength=len(keys))
    return keys, counts.astype("int64")


def forward(model: Model, docs: List[Doc], is_train: bool):
    tables = model.attrs["tables"]
    if tables is None:
        raise ValueError("lstm_tagger: the feature tables are missing; initialize the model first")
    lengths = numpy.asarray([len(doc) for doc in docs], dtype="int64")
    columns = id_columns(model)
    ids = numpy.empty((int(lengths.sum()), columns.width), dtype="int64")
    docs = [doc for doc in docs if len(doc)]
    if docs:
        attr_values, lowers = _token_values(model, docs)
        n_attrs = attr_values.shape[1]
        for i in range(n_attrs):
            ids[:, i] = lookup_rows(tables[i], attr_values[:, i])
        first_new = columns.new.start
        n_attr_new = n_attrs * NEW_VALUE_HASHES if columns.new_values else 0
        if n_attr_new:
            ids[:, first_new : first_new + n_attr_new] = new_value_rows(model, attr_values, ids[:, :n_attrs], range(n_attrs))
        if lowers is not None:
            # Affixes, characters and their new-value rows are a function of the lowercase
            # form: look them up once per word type.
            strings = docs[0].vocab.strings
            type_ids = model.attrs["affix_ids"].lookup(
                tables, lowers, lambda new_types: _type_ids(model, [strings[key] for key in new_types])
            )
            ids[:, n_attrs:first_new] = type_ids[:, : first_new - n_attrs]
            ids[:, first_new + n_attr_new :] = type_ids[:, first_new - n_attrs :]
    return (ids, lengths), lambda d_ids: []


def new_value_rows(model: Model, values: numpy.ndarray, rows: numpy.ndarray, features: Sequence[int]) -> numpy.ndarray:
    """Hashed rows (n, len(features) * NEW_VALUE_HASHES), from 1 to new_value_rows, of the
    feature values (n, len(features)) that the initialization data never showed; 0 for the
    others. `rows` are the values' table rows (0: not in the table)."""
    hashed = numpy.zeros((len(values), len(features) * NEW_VALUE_HASHES), dtype="int64")
    new = rows == 0
    if not new.any():
        return hashed
    seen_rarely = model.attrs["seen_rarely"]
    for column in new.any(axis=0).nonzero()[0]:
        in_column = new[:, column]  # a view: only values not in the table stay new
        in_column[in_column] = lookup_rows(seen_rarely[features[column]], values[in_column, column]) == 0
    tokens, columns = new.nonzero()
    new_values = values[tokens, columns]
    n_rows = numpy.uint64(model.attrs["new_value_rows"])
    for k in range(NEW_VALUE_HASHES):
        salts = numpy.array(
            [((feature * NEW_VALUE_HASHES + k + 1) * 0x9E3779B97F4A7C15) % 2**64 for feature in features], dtype="uint64"
        )
        buckets = mix64(new_values ^ salts[columns])
        hashed[tokens, columns * NEW_VALUE_HASHES + k] = (buckets % n_rows).astype("int64") + 1
    return hashed


def mix64(values: numpy.ndarray) -> numpy.ndarray:
    """splitmix64's finalizer over uint64 values: the same bits on every machine and in every
    process, so saved models find their rows again."""
    values = values.astype("uint64", copy=True)
    values ^= values >> numpy.uint64(30)
    values *= numpy.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> numpy.uint64(27)
    values *= numpy.uint64(0x94D049BB133111EB)
    values ^= values >> numpy.uint64(31)
    return values


def _token_values(model: Model, docs: List[Doc]) -> Tuple[numpy.ndarray, Optional[numpy.ndarray]]:
    """The attrs' uint64 values (n_tokens, n_attrs) of the non-empty Docs laid end to end,
    and each token's LOWER value if affixes or characters are used (else None); one
    to_array per Doc."""
    attr_ids = model.attrs["attr_ids"]
    use_lower = n_features(model) > len(attr_ids) or model.attrs["char_length"] > 0
    columns = attr_ids + [LOWER] if use_lower else attr_ids
    # to_array gives a 1D array for a single attr: reshape to (n_tokens, n_columns).
    values = numpy.concatenate([doc.to_array(columns).reshape((len(doc), len(columns))) for doc in docs])
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


def _type_ids(model: Model, texts: List[str]) -> numpy.ndarray:
    """Affix ids, character ids, then the affixes' new-value rows, of lowercase word types."""
    tables = model.attrs["tables"]
    n_attrs = len(model.attrs["attr_ids"])
    affix_tables = tables[n_attrs : n_features(model)]
    hashes = _affix_values(model, texts)
    columns = [lookup_rows(table, hashes[:, j]) for j, table in enumerate(affix_tables)]
    rows = numpy.stack(columns, axis=1) if columns else numpy.zeros((len(texts), 0), dtype="int64")
    ids = [rows]
    if model.attrs["char_length"]:
        ids.append(_char_ids(texts, tables[-1], model.attrs["char_length"]))
    if id_columns(model).new_values:
        ids.append(new_value_rows(model, hashes, rows, range(n_attrs, n_features(model))))
    return numpy.concatenate(ids, axis=1)


def _affix_hashes(text: str, prefix_lengths: Tuple[int, ...], suffix_lengths: Tuple[int, ...]) -> Tuple[int, ...]:
    # The length goes into the hashed string so that, say, a 3-letter word's prefix
    # and suffix of length 3 are different features.
    return tuple(
        [get_string_id(f"{n}<{text[:n]}") for n in prefix_lengths]
        + [get_string_id(f"{n}>{text[-n:]}") for n in suffix_lengths]
    )
