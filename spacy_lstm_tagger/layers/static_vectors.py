"""Each token's row of the vocab's static vectors (`nlp.vocab.vectors`), looked up as spaCy's
`StaticVectors` does: a plain table by the token's key (ORTH, or the table's own attr), zero for a
key it lacks; floret (hashed) vectors from their subword rows. The rows are frozen: only the
network's projection of them learns."""
from typing import List

import numpy
from spacy.attrs import ORTH
from spacy.tokens import Doc
from spacy.vectors import Mode, Vectors
from spacy.vocab import Vocab
from thinc.api import Ops, get_array_module
from thinc.types import Floats2d

NO_VECTORS = (
    "lstm_tagger: include_static_vectors = true, but the pipeline's vocab has no vectors. Add them "
    "before initialize: in the training config, [initialize] vectors = \"en_core_web_lg\" (any installed "
    "package or pipeline directory whose vocab has vectors), or your own table made with "
    "`python -m spacy init vectors en VECTORS_FILE OUTPUT_DIR` (word2vec or floret text format; "
    "`--mode floret` for floret vectors) and given as [initialize] vectors = \"OUTPUT_DIR\" "
    "(`--paths.vectors OUTPUT_DIR`); or set include_static_vectors = false."
)


def vectors_width(vocab: Vocab) -> int:
    """The width of the vocab's vectors; a ValueError saying how to add them if it has none."""
    shape = vocab.vectors.shape
    if len(shape) < 2 or not shape[0] or not shape[1]:
        raise ValueError(NO_VECTORS)
    return int(shape[1])


def token_vectors(ops: Ops, docs: List[Doc]) -> Floats2d:
    """Each token's static vector, (n_tokens, width) float32 for the Docs laid end to end, on
    the device of `ops`."""
    vocab = docs[0].vocab
    width = vectors_width(vocab)
    vectors = vocab.vectors
    keys = numpy.concatenate([doc.to_array(getattr(vectors, "attr", ORTH)).reshape(-1) for doc in docs])
    if not len(keys):
        return ops.alloc2f(0, width)
    if isinstance(vectors, Vectors) and vectors.mode == Mode.default:
        # One dictionary look-up per word type, then one gather on the table's device.
        types, inverse = numpy.unique(keys, return_inverse=True)
        type_rows = numpy.asarray([vectors.key2row.get(int(key), -1) for key in types], dtype="int64")
        rows = type_rows[inverse.reshape(-1)]
        table_xp = get_array_module(vectors.data)
        found = ops.asarray2f(vectors.data[table_xp.asarray(numpy.maximum(rows, 0))])
        found[ops.asarray(rows < 0)] = 0.0
        return found
    if hasattr(vectors, "get_batch"):  # floret, or another BaseVectors
        return ops.asarray2f(vectors.get_batch(keys))
    raise ValueError(f"lstm_tagger: cannot look up rows of vectors of type {type(vectors).__name__}")
