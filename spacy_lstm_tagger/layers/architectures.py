"""The `spacy_lstm_tagger.LSTMTagger.v2` (and v1) architectures: Docs -> tag probabilities."""
import warnings
from functools import partial
from typing import Callable, List, Optional, Tuple

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, torch2xp, xp2torch
from thinc.layers.pytorchwrapper import forward as pytorch_forward
from thinc.types import Floats2d

from ..arrays import split_per_doc
from ..contract import INITIALIZE_WITH_ALL_DOCS, PREDICT_FLAT, SET_QUANTIZE
from ..pytorch.network import LSTMTaggerNet
from .features import FeatureIds, doc_features, id_columns, table_sizes
from .shim import AveragingPyTorchShim, deserialize_network, serialize_network
from .static_vectors import token_vectors, vectors_width

STATIC_VECTORS = "include_static_vectors"
"""An attr of the node that wraps the network: True if it takes each token's static vector."""


@registry.architectures("spacy_lstm_tagger.LSTMTagger.v2")
def build_lstm_tagger_v2(
    attrs: List[str],
    prefix_lengths: List[int],
    suffix_lengths: List[int],
    min_freq: int,
    embed_width: int,
    hidden_width: int,
    depth: int,
    bidirectional: bool,
    feature_dropout: float,
    mixed_precision: bool = False,
    char_width: int = 0,
    char_length: int = 16,
    new_value_rows: int = 16384,
    include_static_vectors: bool = False,
    cpu_bfloat16: bool = False,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Build a tagger: feature embeddings -> (Bi)LSTM -> linear -> softmax.

    Its dropout rate is the one spaCy gives each update (`nlp.update(drop=...)`, `[training]
    dropout`), as for Thinc's own Dropout layers; `feature_dropout` applies in updates whose
    rate is above 0, so an update with drop=0 is deterministic. A value the data given to
    `initialize` never showed (or all values, if it showed none) gets hashed rows beside the
    unknown row, which training then learns. The output layer starts at zero.

    attrs (List[str]): Token attributes embedded for each token, e.g. NORM and SHAPE.
    prefix_lengths (List[int]): Lengths of the lowercase prefixes embedded for each token.
    suffix_lengths (List[int]): Lengths of the lowercase suffixes embedded for each token.
    min_freq (int): Occurrences in the initialization data a value needs to get its own row.
    embed_width (int): Width of each attribute's embedding.
    hidden_width (int): LSTM hidden size per direction.
    depth (int): Number of stacked LSTM layers.
    bidirectional (bool): Run the LSTM in both directions.
    feature_dropout (float): Chance, in an update with dropout, of replacing a feature with "unknown".
    mixed_precision (bool): No longer does anything (CUDA autocast was measured slower on a
        GPU, for tagging and for training); accepted so that saved configs load, with a warning
        if true.
    char_width (int): Width of a character CNN over each lowercase word, whose output joins
        the feature embeddings (0: no character CNN).
    char_length (int): Characters the CNN reads per word: the first and last half of them
        if the word is longer.
    new_value_rows (int): Rows of the hashed table for values first seen after `initialize`.
    include_static_vectors (bool): Add each token's row of the vocab's vectors (`[initialize]
        vectors`; a plain table or floret), frozen, through a learned linear projection, to its
        embeddings, as spaCy's StaticVectors does. `initialize` fails if the vocab has none.
    cpu_bfloat16 (bool): When training on a CPU with native bfloat16 instructions (AVX-512 BF16
        or AMX), run the LSTM's kernels on bfloat16 copies of its inputs and weights; the
        weights, their gradients and every other layer stay float32. Elsewhere, and for
        tagging, float32 throughout; false (the default) trains in float32 everywhere.
    nO (Optional[int]): Number of tags; taken from the labels at initialize if unset.
    RETURNS (Model[List[Doc], List[Floats2d]]): One (n_tokens, n_tags) probability array per Doc.
    """
    if not isinstance(new_value_rows, int) or new_value_rows < 1:
        raise ValueError(f"lstm_tagger: new_value_rows must be a positive integer, got {new_value_rows}")
    return _build(
        feature_layer(attrs, prefix_lengths, suffix_lengths, min_freq, char_width, char_length, new_value_rows),
        dict(embed_width=embed_width, hidden_width=hidden_width, depth=depth, bidirectional=bidirectional,
             char_width=char_width, new_value_rows=new_value_rows, zero_output=True,
             static_vectors=bool(include_static_vectors), cpu_bfloat16=bool(cpu_bfloat16)),
        {"dropout_rate": 0.0, "feature_dropout": check_rate("feature_dropout", feature_dropout)},
        mixed_precision,
        nO,
    )


@registry.architectures("spacy_lstm_tagger.LSTMTagger.v1")
def build_lstm_tagger_v1(
    attrs: List[str],
    prefix_lengths: List[int],
    suffix_lengths: List[int],
    min_freq: int,
    embed_width: int,
    hidden_width: int,
    depth: int,
    bidirectional: bool,
    dropout: float,
    feature_dropout: float,
    mixed_precision: bool = False,
    char_width: int = 0,
    char_length: int = 16,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Build a tagger as v2 does, but with fixed dropout rates: in every update it applies
    `dropout` and `feature_dropout`, whatever rate spaCy gives it. Its tables have no rows for
    values first seen after `initialize`, and its output layer starts at random. Kept so that
    models trained with it load, tag and train as before; new configs use v2.

    dropout (float): Dropout rate on embeddings, between LSTM layers and on its output.
    The other arguments are v2's (`mixed_precision` no longer does anything).
    """
    return _build(
        feature_layer(attrs, prefix_lengths, suffix_lengths, min_freq, char_width, char_length, 0),
        dict(embed_width=embed_width, hidden_width=hidden_width, depth=depth, bidirectional=bidirectional,
             char_width=char_width),
        {"fixed_dropout": check_rate("dropout", dropout), "feature_dropout": check_rate("feature_dropout", feature_dropout)},
        mixed_precision,
        nO,
    )


def feature_layer(attrs, prefix_lengths, suffix_lengths, min_freq, char_width, char_length, new_value_rows) -> Model:
    check_sizes(char_length=char_length)
    if not isinstance(char_width, int) or char_width < 0:
        raise ValueError(f"lstm_tagger: char_width must be a non-negative integer, got {char_width}")
    return doc_features(attrs, prefix_lengths, suffix_lengths, min_freq, char_length if char_width else 0,
                        new_value_rows)


def check_rate(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"lstm_tagger: {name} must be in [0, 1), got {value}")
    return float(value)


def _build(features: Model, sizes: dict, dropout_attrs: dict, mixed_precision: bool, nO: Optional[int]) -> Model:
    """The Docs -> probabilities model around a network of these sizes; `dropout_attrs` go on
    the node that wraps the network, where `_dropout_rates` reads them."""
    check_sizes(**{name: sizes[name] for name in ("embed_width", "hidden_width", "depth")})
    if mixed_precision:
        # A UserWarning, not a DeprecationWarning, which Python hides outside __main__.
        warnings.warn("lstm_tagger: mixed_precision no longer does anything (it was measured slower on a GPU); "
                      "remove it from the config")
    network = LSTMTaggerNet(id_columns(features), **sizes)
    static_attrs = {STATIC_VECTORS: True} if sizes.get("static_vectors") else {}
    wrapped = Model(
        "lstm_network",
        pytorch_forward,
        attrs={"convert_inputs": _ids_to_torch, "convert_outputs": outputs_from_torch, **dropout_attrs,
               **static_attrs},
        shims=[
            AveragingPyTorchShim(
                network,
                serialize_model=serialize_network,
                deserialize_model=deserialize_network,
            )
        ],
    )
    return Model(
        "lstm_tagger",
        forward,
        init=init,
        layers=[features, wrapped],
        refs={"features": features, "network": wrapped},
        dims={"nO": nO},
        attrs={INITIALIZE_WITH_ALL_DOCS: True, PREDICT_FLAT: partial(softmax_of, predict_logits),
               SET_QUANTIZE: set_quantize},
    )


def check_sizes(**sizes: int) -> None:
    bad = {name: value for name, value in sizes.items() if not isinstance(value, int) or value < 1}
    if bad:
        raise ValueError(f"lstm_tagger: model sizes must be positive integers, got {bad}")


SPACY_SAMPLE_SIZE = 10
"""The Docs spaCy's own trainable components (Tagger among them) give a model's `initialize`."""


def init(model: Model, X: Optional[List[Doc]] = None, Y: Optional[List[Floats2d]] = None) -> None:
    """Build the feature tables from X (none: empty tables), take the number of tags from Y,
    size the network.

    The `lstm_tagger` component gives every training Doc as X and gold rows for a sample as Y.
    spaCy's own Tagger gives its 10-Doc sample as both: the tables are then built from those
    Docs alone, which a warning says.
    """
    warn_if_spacy_sample(X, Y)
    features = model.get_ref("features")
    features.initialize(X=X)
    if Y is not None and len(Y):
        model.set_dim("nO", Y[0].shape[1], force=True)
    if not model.has_dim("nO"):
        raise ValueError("lstm_tagger: the number of tags is unknown; initialize with labels")
    network = model.get_ref("network").shims[0].module
    network.resize(table_sizes(features), model.get_dim("nO"))
    if model.get_ref("network").attrs.get(STATIC_VECTORS):
        if not X:
            raise ValueError("lstm_tagger: include_static_vectors = true needs the training Docs at initialize")
        network.resize_static_vectors(vectors_width(X[0].vocab))


def warn_if_spacy_sample(X: Optional[List[Doc]], Y: Optional[List[Floats2d]]) -> None:
    """Warn if initialize got the 10-Doc sample that spaCy's own components give."""
    if X is not None and Y is not None and len(X) == len(Y) == SPACY_SAMPLE_SIZE:
        warnings.warn(
            f"lstm_tagger model: initialize got {SPACY_SAMPLE_SIZE} Docs with gold rows, the sample that spaCy's "
            f"own components give: its feature tables hold only their words, and any other word is "
            f"embedded through the unknown and hashed rows. For tables built from every training Doc, "
            f"use the model in the lstm_tagger factory (factory = \"lstm_tagger\")"
        )


def forward(model: Model, docs: List[Doc], is_train: bool):
    if not is_train:
        return split_per_doc(*softmax_of(predict_logits, model, docs)), no_backprop
    (ids, lengths), _ = model.get_ref("features")(docs, is_train)
    network = model.get_ref("network")
    logits, backprop_network = network((ids, lengths, *static_inputs(network, docs)), is_train)
    probabilities = model.ops.softmax(logits)

    def backprop(d_probabilities: List[Floats2d]) -> List[Doc]:
        # spaCy's tagger loss hands back `probabilities - truth`, the gradient of the
        # cross-entropy with respect to the logits, so it bypasses the softmax.
        backprop_network(model.ops.flatten(d_probabilities, ndim_if_empty=2))
        return []

    return split_per_doc(probabilities, lengths), backprop


def softmax_of(predict_logits: Callable, model: Model, docs: List[Doc]) -> Tuple[Floats2d, numpy.ndarray]:
    """The tag probabilities of every token, the Docs laid end to end, and each Doc's length:
    the softmax of `predict_logits(model, docs)`."""
    logits, lengths = predict_logits(model, docs)
    return model.ops.softmax(logits), lengths


def predict_logits(model: Model, docs: List[Doc]) -> Tuple[Floats2d, numpy.ndarray]:
    """The model's scores before the softmax, not split per Doc: the logits of every token,
    the Docs laid end to end, and each Doc's length."""
    (ids, lengths), _ = model.get_ref("features")(docs, False)
    network = model.get_ref("network")
    logits, _ = network((ids, lengths, *static_inputs(network, docs)), False)
    return logits, lengths


def set_quantize(model: Model, enabled: bool) -> None:
    """Tag with int8 weights in the LSTM and output layer (CPU only), or with the float ones.
    The int8 copy is made at the next prediction, and again after the weights change; the float
    network stays as it is, so saving keeps the float weights."""
    set_shim_quantize(model.get_ref("network").shims[0], enabled)


def set_shim_quantize(shim: AveragingPyTorchShim, enabled: bool) -> None:
    """Ask the shim's network to tag with int8 weights, or with the float ones."""
    if enabled and shim.device.type != "cpu":
        raise ValueError(
            f"lstm_tagger: quantize = true makes int8 weights for tagging on a CPU, but this "
            f"pipeline runs on {shim.device}; set quantize = false on a GPU, where float32 tags fastest"
        )
    shim.quantize = bool(enabled)


def static_inputs(network: Model, docs: List[Doc]) -> tuple:
    """(each token's static vector,) if the network node takes them, else ()."""
    if not network.attrs.get(STATIC_VECTORS):
        return ()
    return (token_vectors(network.ops, docs),)


def no_backprop(d_probabilities):
    raise ValueError("lstm_tagger: no gradient for a prediction made with is_train=False")


def _ids_to_torch(model: Model, X: FeatureIds, is_train: bool) -> Tuple[ArgsKwargs, Callable]:
    ids, lengths, *static = X
    dropout, feature_dropout = dropout_rates(model, is_train)
    kwargs = {"training": is_train, "dropout": dropout, "feature_dropout": feature_dropout,
              "quantize": model.shims[0].quantize}
    return ArgsKwargs(args=network_args(model, ids, lengths, static), kwargs=kwargs), lambda d_args: None


def network_args(network: Model, ids: numpy.ndarray, lengths: numpy.ndarray, static: tuple) -> tuple:
    """A torch network's positional inputs: the ids on its device, the Docs' nonzero lengths
    (which stay on the CPU), and the static vectors if `static` holds them. On the CPU the ids
    are a view of the array: thinc's xp2torch (DLPack, then `.to`) costs more, one Doc at a time."""
    device = network.shims[0].device
    ids = torch.from_numpy(ids) if device.type == "cpu" else xp2torch(ids, device=device)
    args = (ids, torch.from_numpy(lengths[lengths > 0]))
    if static:
        args += (static_to_torch(network, static[0], device),)
    return args


def static_to_torch(model: Model, vectors: Floats2d, device) -> torch.Tensor:
    """The static vectors as a tensor on the network's device, checked against its projection."""
    expected = model.shims[0].module.static_vectors.in_features
    if vectors.shape[1] != expected:
        raise ValueError(f"lstm_tagger: the vocab's vectors are {vectors.shape[1]} wide, but the model was "
                         f"trained with {expected}-wide vectors; load the vectors it was trained with")
    return xp2torch(vectors, device=device)


def dropout_rates(model: Model, is_train: bool) -> Tuple[float, float]:
    """(dropout, feature dropout) for one call: none when tagging; in an update, v2's rate
    from `set_dropout_rate` (feature dropout only if it is above 0), or v1's fixed ones."""
    if not is_train:
        return 0.0, 0.0
    if "fixed_dropout" in model.attrs:
        return model.attrs["fixed_dropout"], model.attrs["feature_dropout"]
    rate = float(model.attrs["dropout_rate"])
    return rate, model.attrs["feature_dropout"] if rate > 0 else 0.0


def outputs_from_torch(model: Model, X_Ytorch, is_train: bool):
    _, logits = X_Ytorch

    def backprop(d_logits: Floats2d) -> ArgsKwargs:
        return ArgsKwargs(
            args=(logits,),
            kwargs={"grad_tensors": xp2torch(d_logits, device=logits.device).to(logits.dtype)},
        )

    return logits_array(logits), backprop


def logits_array(logits: torch.Tensor) -> Floats2d:
    """The logits as a float32 array: on the CPU a NumPy view (thinc's torch2xp costs more, one
    Doc at a time), on a GPU a CuPy array."""
    if logits.device.type == "cpu":
        return logits.detach().float().numpy()
    return torch2xp(logits.float())
