"""The `lstm_tagger` pipeline component: spaCy's Tagger, driven by an LSTM network."""
from typing import Callable, Iterable, Optional

from spacy.language import Language
from spacy.pipeline.tagger import Tagger
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model

DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy_lstm_tagger.LSTMTagger.v1"
attrs = ["NORM", "SHAPE"]
prefix_lengths = [1, 2, 3]
suffix_lengths = [1, 2, 3, 4]
min_freq = 1
embed_width = 48
hidden_width = 128
depth = 2
bidirectional = true
dropout = 0.25
feature_dropout = 0.05
mixed_precision = false
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]


@Language.factory(
    "lstm_tagger",
    assigns=["token.tag"],
    default_config={
        "model": DEFAULT_MODEL,
        "overwrite": False,
        "scorer": {"@scorers": "spacy.tagger_scorer.v1"},
        "neg_prefix": "!",
        "label_smoothing": 0.0,
    },
    default_score_weights={"tag_acc": 1.0},
)
def make_lstm_tagger(
    nlp: Language,
    name: str,
    model: Model,
    overwrite: bool,
    scorer: Optional[Callable],
    neg_prefix: str,
    label_smoothing: float,
) -> "LSTMTagger":
    """Create an LSTMTagger, which sets `token.tag_` from an LSTM over each Doc."""
    return LSTMTagger(
        nlp.vocab,
        model,
        name,
        overwrite=overwrite,
        scorer=scorer,
        neg_prefix=neg_prefix,
        label_smoothing=label_smoothing,
    )


class LSTMTagger(Tagger):
    """spaCy's Tagger whose model also learns feature tables from all training Docs."""

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Iterable[str]] = None,
    ) -> None:
        """Build the feature tables from every training Doc, then initialize as Tagger does.

        get_examples (Callable[[], Iterable[Example]]): Returns the training examples.
        nlp (Language): The pipeline the component belongs to.
        labels (Optional[Iterable[str]]): Tags from `spacy init labels`; else read from the data.
        """
        validate_get_examples(get_examples, "LSTMTagger.initialize")
        features = self.model.get_ref("features")
        features.attrs["tables"] = None
        features.initialize(X=[eg.predicted for eg in get_examples()])
        super().initialize(get_examples, nlp=nlp, labels=labels)
