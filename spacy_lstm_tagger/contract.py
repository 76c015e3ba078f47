"""What the `lstm_tagger` component may ask of its model, beyond spaCy's Tagger's interface.

The component works with any `Model[List[Doc], List[Floats2d]]`, as spaCy's Tagger does. A model
may offer more through attrs of its outermost node, which the component reads and never looks
past:

| attr | value | what the component does with it |
| --- | --- | --- |
| `initialize_with_all_docs` | True | gives `initialize` every training Doc as X, not spaCy's 10-Doc sample |
| `predict_flat` | `(model, docs) -> (probabilities, lengths)` | asks for the probabilities of all tokens as one array, the Docs laid end to end, with each Doc's length: on a GPU, an array per Doc costs more than the network |
| `set_quantize` | `(model, enabled: bool) -> None` | `quantize = true`: tags with int8 weights |

`check_model` checks them when the pipe is created. The `spacy_lstm_tagger.LSTMTagger`
architectures offer all three.
"""
from typing import Callable, Optional

INITIALIZE_WITH_ALL_DOCS = "initialize_with_all_docs"
PREDICT_FLAT = "predict_flat"
SET_QUANTIZE = "set_quantize"


class WeightsError(ValueError):
    """Saved network weights that cannot be read, or that do not fit the configured network."""


def offered(model, attr: str) -> Optional[Callable]:
    """The callable the model offers under `attr`, or None."""
    value = model.attrs.get(attr)
    return value if callable(value) else None


def check_model(model, name: str, quantize: bool) -> None:
    """Refuse, with a message that says why, a model that cannot do what the component's
    settings ask of it."""
    if quantize and offered(model, SET_QUANTIZE) is None:
        raise ValueError(
            f"{name}: quantize = true needs a spacy_lstm_tagger.LSTMTagger model (one that offers "
            f"{SET_QUANTIZE!r} to tag with int8 weights), not {model.name!r}; set quantize = false"
        )
    value = model.attrs.get(PREDICT_FLAT)
    if value is not None and not callable(value):
        raise ValueError(f"{name}: the model's {PREDICT_FLAT!r} attr must be a function (model, docs) -> "
                         f"(probabilities, lengths), not {value!r}")
