"""The `spacy_lstm_tagger.PretrainBiLM.v1` objective for `spacy pretrain`: from the encoder's
first LSTM layer, the forward states predict the next word and the backward states the previous
one, as ELMo's language models do.

Why the first layer: each of its directions has read one side of the word only. Above it, a
bidirectional layer reads both directions of the layer below, so its forward state has already
seen the next word. The words are predicted through hashed buckets: each word's NORM is hashed
`n_hashes` times into `n_buckets` classes, and each hash is a softmax of its own (as spaCy's
characters objective predicts each character). Two hashes into 1,024 buckets tell apart about a
million words at the cost of 2,048 output rows, not one row per word of the vocabulary.
"""
from functools import partial
from typing import Callable, List, Optional, Tuple

import numpy
from spacy.attrs import IDS as ATTR_IDS
from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Linear, Model, Ops
from thinc.types import Floats2d

from ..layers.encoder import ENCODER, encode, is_initialized
from ..layers.features import mix64

BiLMScores = Tuple[Floats2d, Floats2d]  # the forward and the backward states' scores, (n_tokens, hashes x buckets)


@registry.architectures("spacy_lstm_tagger.PretrainBiLM.v1")
def create_pretrain_bilm(n_hashes: int = 2, n_buckets: int = 1024, attr: str = "NORM"
                         ) -> Callable[[Vocab, Model], Model]:
    """The objective `[pretraining] objective` names: predict each word's neighbours.

    n_hashes (int): Hashes of each word, each predicted by its own softmax.
    n_buckets (int): Classes of each hash.
    attr (str): The token attribute predicted (NORM: the word, lowercased and normalized).
    """
    for name, value in (("n_hashes", n_hashes), ("n_buckets", n_buckets)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"lstm_tagger: PretrainBiLM's {name} must be a positive integer, got {value!r}")
    if attr.upper() not in ATTR_IDS:
        raise ValueError(f"lstm_tagger: PretrainBiLM's attr must name a spaCy token attribute, got {attr!r}")

    def create_bilm(vocab: Vocab, encoder: Model) -> Model:
        if encoder.name != ENCODER:
            raise ValueError(f"lstm_tagger: PretrainBiLM trains a spacy_lstm_tagger.LSTMEncoder layer (the v3 "
                             f"tagger's \"encoder\"), not {encoder.name!r}; set [pretraining] layer = \"encoder\"")
        return build_bilm(encoder, n_hashes, n_buckets, ATTR_IDS[attr.upper()])

    return create_bilm


def build_bilm(encoder: Model, n_hashes: int, n_buckets: int, attr_id: int) -> Model[List[Doc], BiLMScores]:
    """The encoder with a linear output layer per direction; `attrs["loss"]` is the loss spaCy's
    pretraining loop calls."""
    module = encoder.get_ref("network").shims[0].module
    width = module.lstm.hidden_size
    directions = 2 if module.lstm.bidirectional else 1
    heads = [Linear(n_hashes * n_buckets, width) for _ in range(directions)]
    model = Model("lstm_bilm", forward, init=init, layers=[encoder, *heads], refs={"tok2vec": encoder})
    model.attrs["loss"] = partial(bilm_loss, n_hashes=n_hashes, n_buckets=n_buckets, attr_id=attr_id)
    return model


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    """Initialize the heads, and the encoder unless it is already: `spacy pretrain` initializes
    the layer before the objective, and doing it again would read `table_text` twice."""
    encoder, *heads = model.layers
    if not is_initialized(encoder):
        encoder.initialize(X=X)
    for head in heads:
        head.initialize()


def forward(model: Model, docs: List[Doc], is_train: bool):
    encoder, *heads = model.layers
    states, lengths, backprop_states = encode(encoder, docs, is_train, depth=1)
    width = states.shape[1] // len(heads)
    outputs = [head(model.ops.xp.ascontiguousarray(states[:, i * width : (i + 1) * width]), is_train)
               for i, head in enumerate(heads)]
    scores = tuple(scores for scores, _ in outputs)
    if len(scores) == 1:
        scores = (scores[0], None)

    def backprop(d_scores: BiLMScores) -> List[Doc]:
        backprop_states(model.ops.xp.concatenate(
            [get_d_states(d) for (_, get_d_states), d in zip(outputs, d_scores)], axis=1))
        return []

    return scores, backprop


def bilm_loss(ops: Ops, docs: List[Doc], scores: BiLMScores, *, n_hashes: int, n_buckets: int, attr_id: int
              ) -> Tuple[float, BiLMScores]:
    """The mean cross-entropy of the next word's hashes (forward) and the previous word's
    (backward), and its gradient with respect to the scores. A Doc's last word has no next
    word and its first no previous one: they add nothing."""
    targets = word_buckets(docs, n_hashes, n_buckets, attr_id)
    first = numpy.zeros(len(targets), dtype=bool)
    lengths = numpy.asarray([len(doc) for doc in docs])
    starts = (numpy.cumsum(lengths) - lengths)[lengths > 0]
    first[starts] = True
    last = numpy.roll(first, -1)  # the token before each Doc's first, cyclically: each Doc's last
    n_predicted = max((len(targets) - len(starts)) * sum(d is not None for d in scores), 1)
    total, gradients = 0.0, []
    for direction, d_scores in enumerate(scores):
        if d_scores is None:
            gradients.append(None)
            continue
        shift, without = (-1, last) if direction == 0 else (1, first)
        loss, gradient = _softmax_loss(ops, d_scores, numpy.roll(targets, shift, axis=0), ~without, n_buckets)
        total += loss
        gradients.append(gradient / n_predicted)
    return total / n_predicted, tuple(gradients)


def word_buckets(docs: List[Doc], n_hashes: int, n_buckets: int, attr_id: int) -> numpy.ndarray:
    """Each token's bucket per hash, (n_tokens, n_hashes), the Docs laid end to end."""
    values = [doc.to_array([attr_id]).reshape(-1) for doc in docs if len(doc)]
    values = numpy.concatenate(values) if values else numpy.zeros(0, dtype="uint64")
    salts = [numpy.uint64((k + 1) * 0xD1B54A32D192ED03 % 2**64) for k in range(n_hashes)]
    return numpy.stack([(mix64(values ^ salt) % numpy.uint64(n_buckets)).astype("int64") for salt in salts], axis=1)


def _softmax_loss(ops: Ops, scores: Floats2d, targets: numpy.ndarray, predicted: numpy.ndarray, n_buckets: int
                  ) -> Tuple[float, Floats2d]:
    """The summed cross-entropy of each hash's softmax at the predicted tokens, and its gradient."""
    xp = ops.xp
    n_tokens, n_hashes = targets.shape
    probabilities = ops.softmax(scores.reshape((n_tokens, n_hashes, n_buckets)), axis=-1)
    rows = xp.asarray(numpy.repeat(numpy.arange(n_tokens), n_hashes))
    columns = xp.asarray(numpy.tile(numpy.arange(n_hashes), n_tokens))
    chosen = xp.asarray(targets.reshape(-1))
    mask = xp.asarray(predicted.astype("float32"))
    loss = -float((xp.log(probabilities[rows, columns, chosen] + 1e-9).reshape(n_tokens, n_hashes)
                   * mask[:, None]).sum())
    probabilities[rows, columns, chosen] -= 1.0
    probabilities *= mask[:, None, None]
    return loss, probabilities.reshape(scores.shape)
