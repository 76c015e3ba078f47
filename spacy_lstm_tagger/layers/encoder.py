"""The `spacy_lstm_tagger.LSTMEncoder.v1` architecture: Docs -> one row of LSTM states per token.

The encoder of the v3 tagger (features, embeddings, character CNN, (Bi)LSTM), and the layer that
`spacy pretrain` trains (`[pretraining] layer = "encoder"`).
"""
from itertools import chain
from typing import Callable, List, NamedTuple, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model
from thinc.layers.pytorchwrapper import forward as pytorch_forward
from thinc.types import Floats2d

from ..arrays import split_per_doc
from ..pytorch.network import LSTMEncoderNet
from .architectures import (
    STATIC_VECTORS, check_rate, check_sizes, dropout_rates, feature_layer, network_args, outputs_from_torch,
    static_inputs,
)
from .features import id_columns, table_sizes
from .features import init as build_feature_tables
from .shim import AveragingPyTorchShim, deserialize_network, serialize_network
from .static_vectors import vectors_width
from .table_text import table_text_docs

ENCODER = "lstm_encoder"
"""The encoder node's name, which the pretraining objectives check."""


@registry.architectures("spacy_lstm_tagger.LSTMEncoder.v1")
def build_lstm_encoder(
    attrs: List[str],
    prefix_lengths: List[int],
    suffix_lengths: List[int],
    min_freq: int,
    embed_width: int,
    hidden_width: int,
    depth: int,
    bidirectional: bool,
    feature_dropout: float,
    char_width: int = 0,
    char_length: int = 16,
    new_value_rows: int = 16384,
    include_static_vectors: bool = False,
    cpu_bfloat16: bool = False,
    table_text: Optional[str] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Build an encoder: feature embeddings (and a character CNN) -> (Bi)LSTM, one row of
    states per token (the forward direction's, then the backward's), with dropout on them in
    training. Its arguments are `spacy_lstm_tagger.LSTMTagger.v2`'s, and:

    table_text (Optional[str]): A JSONL raw text file (a "text" per line), a `.spacy` corpus,
        or a folder of them, whose words fill the feature tables with the Docs `initialize`
        gets: so that `spacy pretrain`, which initializes on one sample Doc, gives the raw
        text's words rows of their own (see docs/pretraining.md). Read at `initialize` only: a
        trained model loads where the text is absent.
    RETURNS (Model[List[Doc], List[Floats2d]]): (n_tokens, hidden_width x directions) per Doc.
    """
    if not isinstance(new_value_rows, int) or new_value_rows < 1:
        raise ValueError(f"lstm_tagger: new_value_rows must be a positive integer, got {new_value_rows}")
    features = feature_layer(attrs, prefix_lengths, suffix_lengths, min_freq, char_width, char_length,
                             new_value_rows)
    sizes = dict(embed_width=embed_width, hidden_width=hidden_width, depth=depth)
    check_sizes(**sizes)
    module = LSTMEncoderNet(id_columns(features), **sizes, bidirectional=bidirectional, char_width=char_width,
                            new_value_rows=new_value_rows, static_vectors=bool(include_static_vectors),
                            cpu_bfloat16=bool(cpu_bfloat16))
    network = Model(
        "lstm_encoder_network",
        pytorch_forward,
        attrs={"convert_inputs": _inputs_to_torch, "convert_outputs": outputs_from_torch, "dropout_rate": 0.0,
               "feature_dropout": check_rate("feature_dropout", feature_dropout),
               **({STATIC_VECTORS: True} if include_static_vectors else {})},
        shims=[AveragingPyTorchShim(module, serialize_model=serialize_network, deserialize_model=deserialize_network)],
    )
    return Model(
        ENCODER,
        forward,
        init=init,
        layers=[features, network],
        refs={"features": features, "network": network},
        dims={"nO": module.output_width},
        attrs={"table_text": table_text},
    )


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    """Build the feature tables from X and `table_text` (none: empty tables), and size the
    network."""
    features = model.get_ref("features")
    text = model.attrs["table_text"]
    if text is None:
        features.initialize(X=X)
    else:
        if not X:
            raise ValueError("lstm_tagger: an encoder with table_text needs a sample Doc at initialize, for its vocab")
        # The feature layer's own init, on a stream: the text need not be held whole.
        build_feature_tables(features, chain(X, table_text_docs(text, X[0].vocab)))
    network = model.get_ref("network")
    module = network.shims[0].module
    module.resize(table_sizes(features))
    if network.attrs.get(STATIC_VECTORS):
        if not X:
            raise ValueError("lstm_tagger: include_static_vectors = true needs the training Docs at initialize")
        module.resize_static_vectors(vectors_width(X[0].vocab))


def is_initialized(model: Model) -> bool:
    """Whether `initialize` has built the encoder's feature tables and sized its network."""
    return model.get_ref("network").shims[0].module.generation > 0


def forward(model: Model, docs: List[Doc], is_train: bool):
    states, lengths, backprop_states = encode(model, docs, is_train)

    def backprop(d_states: List[Floats2d]) -> List[Doc]:
        backprop_states(model.ops.flatten(d_states, ndim_if_empty=2))
        return []

    return split_per_doc(states, lengths), backprop


def encode(model: Model, docs: List[Doc], is_train: bool, depth: Optional[int] = None
           ) -> Tuple[Floats2d, numpy.ndarray, Callable[[Floats2d], None]]:
    """The states of the encoder's first `depth` LSTM layers (all if None) for the Docs laid end
    to end, each Doc's length, and the callback that takes their gradient."""
    if model.name != ENCODER:
        raise ValueError(f"lstm_tagger: expected a spacy_lstm_tagger.LSTMEncoder layer, got {model.name!r}")
    (ids, lengths), _ = model.get_ref("features")(docs, is_train)
    network = model.get_ref("network")
    states, backprop = network(EncoderInput(ids, lengths, static_inputs(network, docs), depth), is_train)
    return states, lengths, backprop


class EncoderInput(NamedTuple):
    """What the encoder's network node takes."""

    ids: numpy.ndarray
    lengths: numpy.ndarray
    static: tuple  # (each token's static vector,) or ()
    depth: Optional[int]


def _inputs_to_torch(model: Model, X: EncoderInput, is_train: bool) -> Tuple[ArgsKwargs, Callable]:
    dropout, feature_dropout = dropout_rates(model, is_train)
    kwargs = {"training": is_train, "dropout": dropout, "feature_dropout": feature_dropout, "depth": X.depth}
    return ArgsKwargs(args=network_args(model, X.ids, X.lengths, X.static), kwargs=kwargs), lambda d_args: None
