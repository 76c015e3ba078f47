"""The `spacy_lstm_tagger.LSTMTagger.v1` architecture: Docs -> tag probabilities."""
from typing import Callable, List, Optional, Tuple

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, torch2xp, xp2torch
from thinc.layers.pytorchwrapper import forward as pytorch_forward
from thinc.types import Floats2d

from .features import FeatureIds, doc_features, n_features, table_sizes
from .network import LSTMTaggerNet
from .shim import AveragingPyTorchShim, deserialize_network, serialize_network
from .windows import plan_windows


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
    """Build a tagger: feature embeddings -> (Bi)LSTM -> linear -> softmax.

    attrs (List[str]): Token attributes embedded for each token, e.g. NORM and SHAPE.
    prefix_lengths (List[int]): Lengths of the lowercase prefixes embedded for each token.
    suffix_lengths (List[int]): Lengths of the lowercase suffixes embedded for each token.
    min_freq (int): Occurrences in the training data a value needs to get its own embedding.
    embed_width (int): Width of each attribute's embedding.
    hidden_width (int): LSTM hidden size per direction.
    depth (int): Number of stacked LSTM layers.
    bidirectional (bool): Run the LSTM in both directions.
    dropout (float): Dropout rate on embeddings, between LSTM layers and on its output.
    feature_dropout (float): Chance, while training, of replacing a feature with "unknown".
    mixed_precision (bool): Run the network under CUDA autocast (GPU only).
    char_width (int): Width of a character CNN over each lowercase word, whose output joins
        the feature embeddings (0: no character CNN).
    char_length (int): Characters the CNN reads per word: the first and last half of them
        if the word is longer.
    nO (Optional[int]): Number of tags; taken from the data at initialize if unset.
    RETURNS (Model[List[Doc], List[Floats2d]]): One (n_tokens, n_tags) probability array per Doc.
    """
    _check_sizes(embed_width=embed_width, hidden_width=hidden_width, depth=depth, char_length=char_length)
    if not isinstance(char_width, int) or char_width < 0:
        raise ValueError(f"lstm_tagger: char_width must be a non-negative integer, got {char_width}")
    if not 0.0 <= dropout < 1.0 or not 0.0 <= feature_dropout < 1.0:
        raise ValueError(
            f"lstm_tagger: dropout and feature_dropout must be in [0, 1), got {dropout} and {feature_dropout}"
        )
    features = doc_features(attrs, prefix_lengths, suffix_lengths, min_freq, char_length if char_width else 0)
    network = LSTMTaggerNet(
        n_features(features), embed_width, hidden_width, depth, bidirectional, dropout, feature_dropout, char_width
    )
    wrapped = Model(
        "lstm_network",
        pytorch_forward,
        attrs={"convert_inputs": _ids_to_torch, "convert_outputs": _logits_from_torch},
        shims=[
            AveragingPyTorchShim(
                network,
                mixed_precision=mixed_precision,
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
    )


def _check_sizes(**sizes: int) -> None:
    bad = {name: value for name, value in sizes.items() if not isinstance(value, int) or value < 1}
    if bad:
        raise ValueError(f"lstm_tagger: model sizes must be positive integers, got {bad}")


def init(model: Model, X: List[Doc] = None, Y: List[Floats2d] = None) -> None:
    """Build the feature tables from X, take the number of tags from Y, size the network."""
    features = model.get_ref("features")
    features.initialize(X=X)
    if features.attrs["tables"] is None:
        raise ValueError("lstm_tagger: initialize needs Docs to build the feature tables")
    if Y is not None and len(Y):
        model.set_dim("nO", Y[0].shape[1], force=True)
    if not model.has_dim("nO"):
        raise ValueError("lstm_tagger: the number of tags is unknown; initialize with labels")
    network = model.get_ref("network").shims[0].module
    network.resize(table_sizes(features), model.get_dim("nO"))


def forward(model: Model, docs: List[Doc], is_train: bool):
    if not is_train:
        logits, lengths = predict_logits(model, docs)
        return split_per_doc(model.ops.softmax(logits), lengths), _no_backprop
    (ids, lengths), _ = model.get_ref("features")(docs, is_train)
    logits, backprop_network = model.get_ref("network")((ids, lengths), is_train)
    probabilities = model.ops.softmax(logits)

    def backprop(d_probabilities: List[Floats2d]) -> List[Doc]:
        # spaCy's tagger loss hands back `probabilities - truth`, the gradient of the
        # cross-entropy with respect to the logits, so it bypasses the softmax.
        backprop_network(model.ops.flatten(d_probabilities, ndim_if_empty=2))
        return []

    return split_per_doc(probabilities, lengths), backprop


def split_per_doc(rows: Floats2d, lengths: numpy.ndarray) -> List[Floats2d]:
    """The rows of Docs laid end to end, as one view per Doc (NumPy or CuPy): slicing, which
    costs less per Doc than `split`."""
    ends = lengths.cumsum().tolist()
    return [rows[end - length : end] for end, length in zip(ends, lengths.tolist())]


def predict_logits(model: Model, docs: List[Doc]) -> Tuple[Floats2d, numpy.ndarray]:
    """The model's scores before the softmax, not split per Doc: the logits of every token,
    the Docs laid end to end, and each Doc's length. On a GPU one array per Doc costs more
    than the network, and the best tag needs no softmax, so the component's predict uses this.
    A very long Doc goes through the network in overlapping windows (see windows.py), so
    that memory stays bounded."""
    (ids, lengths), _ = model.get_ref("features")(docs, False)
    network = model.get_ref("network")
    plan = plan_windows(lengths)
    if plan is None:
        logits, _ = network((ids, lengths), False)
        return logits, lengths
    pieces = [network((ids[index], window_lengths), False)[0] for index, window_lengths in plan.groups()]
    return model.ops.xp.concatenate(pieces)[model.ops.asarray(plan.take)], lengths


def _no_backprop(d_probabilities):
    raise ValueError("lstm_tagger: no gradient for a prediction made with is_train=False")


def _ids_to_torch(model: Model, X: FeatureIds, is_train: bool) -> Tuple[ArgsKwargs, Callable]:
    ids, lengths = X
    device = model.shims[0].device
    nonempty = lengths[lengths > 0]
    args = (xp2torch(ids, device=device), torch.from_numpy(nonempty))  # lengths stay on the CPU
    return ArgsKwargs(args=args, kwargs={}), lambda d_args: None


def _logits_from_torch(model: Model, X_Ytorch, is_train: bool):
    _, logits = X_Ytorch

    def backprop(d_logits: Floats2d) -> ArgsKwargs:
        return ArgsKwargs(
            args=(logits,),
            kwargs={"grad_tensors": xp2torch(d_logits, device=logits.device).to(logits.dtype)},
        )

    return torch2xp(logits.float()), backprop
