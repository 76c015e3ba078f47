"""The `spacy_lstm_tagger.LSTMTagger.v3` architecture: chain(encoder, output), Docs -> tag
probabilities, with the encoder a layer of its own that `spacy pretrain` can train."""
import warnings
from functools import partial
from typing import Callable, List, Optional, Tuple

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, xp2torch
from thinc.layers.pytorchwrapper import convert_pytorch_default_inputs, convert_pytorch_default_outputs
from thinc.layers.pytorchwrapper import forward as pytorch_forward
from thinc.types import Floats2d

from ..arrays import split_per_doc
from ..contract import INITIALIZE_WITH_ALL_DOCS, PREDICT_FLAT, SET_QUANTIZE
from ..pytorch.network import LSTMTaggerNet
from .architectures import (logits_array, network_args, no_backprop, set_shim_quantize, softmax_of, static_inputs,
                            warn_if_spacy_sample)
from .encoder import ENCODER, encode
from .shim import AveragingPyTorchShim, deserialize_linear, serialize_network

ENCODER_REF = "encoder"
"""The name under which the tagger keeps its encoder: `[pretraining] layer = "encoder"`."""


@registry.architectures("spacy_lstm_tagger.LSTMTagger.v3")
def build_lstm_tagger_v3(encoder: Model[List[Doc], List[Floats2d]], nO: Optional[int] = None,
                         init_W: Optional[Callable] = None) -> Model[List[Doc], List[Floats2d]]:
    """Build a tagger: the encoder's states -> linear -> softmax, every tag equally likely at
    the start, as with spaCy's Softmax_v2. Tagging runs the encoder and the output layer in one
    pass, on the same paths as v2.

    encoder (Model[List[Doc], List[Floats2d]]): A `spacy_lstm_tagger.LSTMEncoder.v1`, kept as
        the ref "encoder".
    nO (Optional[int]): Number of tags; taken from the labels at initialize if unset.
    init_W (Optional[Callable]): A Thinc initializer for the output layer's weights, such as
        `glorot_uniform_init.v1`; then the encoder's top LSTM layer starts with zero states
        instead (`LSTMEncoderNet.start_with_zero_states`), which keeps the tags equally likely
        at the start and lets the scores grow from the first update. None: the weights start
        at zero. The output bias starts at zero.
    RETURNS (Model[List[Doc], List[Floats2d]]): One (n_tokens, n_tags) probability array per Doc.
    """
    if encoder.name != ENCODER:
        raise ValueError(f"lstm_tagger: LSTMTagger.v3 takes a spacy_lstm_tagger.LSTMEncoder.v1 encoder, "
                         f"not {encoder.name!r}")
    output = _output_layer(encoder.get_dim("nO"))
    return Model(
        "lstm_tagger",
        forward,
        init=partial(init, init_W=init_W),
        layers=[encoder, output],
        refs={ENCODER_REF: encoder, "output": output},
        dims={"nO": nO},
        attrs={INITIALIZE_WITH_ALL_DOCS: True, PREDICT_FLAT: partial(softmax_of, predict_logits),
               SET_QUANTIZE: set_quantize},
    )


def _output_layer(width: int) -> Model[Floats2d, Floats2d]:
    """A torch linear layer from the encoder's states to the tag scores, sized at initialize."""
    with warnings.catch_warnings():  # no labels yet: torch warns about initializing 0 rows
        warnings.simplefilter("ignore", UserWarning)
        linear = torch.nn.Linear(width, 0)
    return Model(
        "lstm_output",
        pytorch_forward,
        attrs={"convert_inputs": convert_pytorch_default_inputs, "convert_outputs": convert_pytorch_default_outputs},
        shims=[AveragingPyTorchShim(linear, serialize_model=serialize_network, deserialize_model=deserialize_linear)],
    )


def init(model: Model, X: Optional[List[Doc]] = None, Y: Optional[List[Floats2d]] = None, *,
         init_W: Optional[Callable] = None) -> None:
    """Initialize the encoder on X, take the number of tags from Y, size the output layer and
    start it as `build_lstm_tagger_v3` says."""
    warn_if_spacy_sample(X, Y)
    encoder = model.get_ref(ENCODER_REF)
    encoder.initialize(X=X)
    if Y is not None and len(Y):
        model.set_dim("nO", Y[0].shape[1], force=True)
    if not model.has_dim("nO"):
        raise ValueError("lstm_tagger: the number of tags is unknown; initialize with labels")
    shim = model.get_ref("output").shims[0]
    linear = torch.nn.Linear(encoder.get_dim("nO"), model.get_dim("nO")).to(shim.device)
    with torch.no_grad():
        linear.bias.zero_()
        if init_W is None:
            linear.weight.zero_()
        else:
            linear.weight.copy_(xp2torch(init_W(model.ops, tuple(linear.weight.shape))))
            encoder.get_ref("network").shims[0].module.start_with_zero_states()
    shim._model = linear


def forward(model: Model, docs: List[Doc], is_train: bool):
    if not is_train:
        return split_per_doc(*softmax_of(predict_logits, model, docs)), no_backprop
    states, lengths, backprop_states = encode(model.get_ref(ENCODER_REF), docs, is_train)
    logits, backprop_output = model.get_ref("output")(states, is_train)
    probabilities = model.ops.softmax(logits)

    def backprop(d_probabilities: List[Floats2d]) -> List[Doc]:
        # As in v2: spaCy's tagger loss hands back the gradient with respect to the logits.
        backprop_states(backprop_output(model.ops.flatten(d_probabilities, ndim_if_empty=2)))
        return []

    return split_per_doc(probabilities, lengths), backprop


def predict_logits(model: Model, docs: List[Doc]) -> Tuple[Floats2d, numpy.ndarray]:
    """The logits of every token, the Docs laid end to end, and each Doc's length: the encoder
    and the output layer run as one network (`LSTMTaggerNet.joining`)."""
    encoder = model.get_ref(ENCODER_REF)
    (ids, lengths), _ = encoder.get_ref("features")(docs, False)
    network = encoder.get_ref("network")
    args = network_args(network, ids, lengths, static_inputs(network, docs))
    with torch.no_grad():
        logits = _joined(model)(*args, training=False, quantize=network.shims[0].quantize)
    return logits_array(logits), lengths


def _joined(model: Model) -> LSTMTaggerNet:
    """The encoder's network and the output layer as one tagger network, made again when
    either replaces parameters (resizing, loading)."""
    encoder = model.get_ref(ENCODER_REF).get_ref("network").shims[0].module
    output_shim = model.get_ref("output").shims[0]
    output = output_shim.module
    cached = getattr(output_shim, "joined", None)
    if cached is None or cached[0] is not encoder or cached[1] != encoder.generation or cached[2] is not output:
        cached = (encoder, encoder.generation, output, LSTMTaggerNet.joining(encoder, output))
        output_shim.joined = cached
    return cached[3]


def set_quantize(model: Model, enabled: bool) -> None:
    """Tag with int8 weights in the LSTM and output layer (CPU only), or with the float ones."""
    set_shim_quantize(model.get_ref(ENCODER_REF).get_ref("network").shims[0], enabled)
