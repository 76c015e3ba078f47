"""The `lstm_tagger` pipeline component: spaCy's Tagger, with tag probabilities on tokens.

It works with any `Model[List[Doc], List[Floats2d]]`, as spaCy's Tagger does; the
`spacy_lstm_tagger.LSTMTagger` architectures are the default."""
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Tuple

import numpy
from spacy.attrs import TAG
from spacy.errors import Errors
from spacy.language import Language
from spacy.pipeline.tagger import Tagger
from spacy.tokens import Doc, Token
from spacy.training import Example, validate_examples
from spacy.util import check_lexeme_norms
from spacy.vocab import Vocab
from thinc.api import Config, Model, set_dropout_rate

from ..arrays import split_per_doc
from ..contract import INITIALIZE_WITH_ALL_DOCS, PREDICT_FLAT, SET_QUANTIZE, check_model, offered
from .corpus import SAMPLE_SIZE, distinct_docs, no_tags_error, read_corpus
from .loading import all_or_nothing, check_saved_files, write_checksum
from .temperature import TEMPERATURE, apply_temperature

DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy_lstm_tagger.LSTMTagger.v3"

[model.init_W]
@initializers = "glorot_uniform_init.v1"

[model.encoder]
@architectures = "spacy_lstm_tagger.LSTMEncoder.v1"
attrs = ["NORM", "SHAPE"]
prefix_lengths = [1, 2, 3]
suffix_lengths = [1, 2, 3, 4]
min_freq = 2
embed_width = 48
hidden_width = 128
depth = 2
bidirectional = true
feature_dropout = 0.05
char_width = 64
char_length = 16
new_value_rows = 16384
cpu_bfloat16 = true
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
        "store_probabilities": False,
        "top_k": 3,
        "quantize": False,
        "distill_weight": 0.8,
        "distill_temperature": 1.0,
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
    store_probabilities: bool,
    top_k: int,
    quantize: bool,
    distill_weight: float,
    distill_temperature: float,
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
        store_probabilities=store_probabilities,
        top_k=top_k,
        quantize=quantize,
        distill_weight=distill_weight,
        distill_temperature=distill_temperature,
    )


class LSTMTagger(Tagger):
    """spaCy's Tagger that can keep each tag's probability on the tokens, computes its loss
    for a batch at once, and gives a model that asks for it (the INITIALIZE_WITH_ALL_DOCS
    attr) every training Doc at initialize, to build its feature tables."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "lstm_tagger",
        *,
        store_probabilities: bool = False,
        top_k: int = 3,
        quantize: bool = False,
        distill_weight: float = 0.8,
        distill_temperature: float = 1.0,
        **tagger_settings,
    ) -> None:
        """Create the component and register `token._.tag_prob` and `token._.tag_alternatives`.

        store_probabilities (bool): Set those two attributes on the tokens the component tags.
        top_k (int): How many (tag, probability) pairs `token._.tag_alternatives` keeps.
        quantize (bool): Tag with int8 weights in the LSTM and output layer (CPU only; 1.45 times
            as fast at 1 thread, as measured). The saved weights stay float, and the component
            cannot train.
        distill_weight (float): When an example carries its teachers' probabilities (see
            docs/distillation.md), the share of the loss that learns from them on tokens that
            also have a gold tag; tokens without one learn from the teachers alone.
        distill_temperature (float): The temperature at which the student learns the teachers'
            probabilities (1: as they are; higher: more from their lower-ranked tags).
        tagger_settings: overwrite, scorer, neg_prefix, label_smoothing, as for spaCy's Tagger.
        """
        if not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"lstm_tagger: top_k must be a positive integer, got {top_k!r}")
        if not isinstance(quantize, bool):
            raise ValueError(f"lstm_tagger: quantize must be true or false, got {quantize!r}")
        check_model(model, name, quantize)
        if not isinstance(distill_weight, (int, float)) or not 0.0 <= distill_weight <= 1.0:
            raise ValueError(f"lstm_tagger: distill_weight must be in [0, 1], got {distill_weight!r}")
        if not isinstance(distill_temperature, (int, float)) or distill_temperature <= 0:
            raise ValueError(f"lstm_tagger: distill_temperature must be positive, got {distill_temperature!r}")
        super().__init__(vocab, model, name, **tagger_settings)
        self.distill_weight = float(distill_weight)
        self.distill_temperature = float(distill_temperature)
        self.store_probabilities = store_probabilities
        self.top_k = top_k
        self.quantize = quantize
        if quantize:
            offered(model, SET_QUANTIZE)(model, True)
        self._labels_as_hashes = None
        for attr in ("tag_prob", "tag_alternatives"):
            if not Token.has_extension(attr):
                Token.set_extension(attr, default=None)

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd=None, losses=None) -> dict:
        """Learn from a batch of Examples, as Tagger.update does.

        Tagger.update checks each Doc's scores for NaN, a device sync per Doc; here
        get_loss checks the batch's loss once, which is NaN if any score is.
        """
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        validate_examples(examples, "LSTMTagger.update")
        if self.quantize:
            raise ValueError(
                f"{self.name}: quantize = true is for tagging, with int8 weights that cannot learn; "
                f"train with quantize = false (the saved weights are the float ones)"
            )
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd not in (None, False):
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], scores: list) -> Tuple[float, list]:
        """The loss and gradient Tagger.get_loss gives, computed for the whole batch at once.

        Examples whose gold tags include a negative ("!TAG") or unknown tag take
        Tagger.get_loss itself, which handles or reports them. Examples that carry their
        teachers' probabilities (distillation) learn from them too (loss.distillation_loss).
        """
        validate_examples(examples, "LSTMTagger.get_loss")
        from .loss import batch_loss, distillation_loss, gold_tag_hashes, teacher_targets  # not at import time

        rows = self._label_hashes().rows(gold_tag_hashes(examples))
        targets = teacher_targets(examples, self.labels) if len(scores) else None
        if targets is not None:
            if rows is None:
                raise ValueError(f"{self.name}: examples with teacher probabilities must have only the "
                                 f"component's labels as gold tags (no negative or unknown tags)")
            loss, d_scores = distillation_loss(self.model.ops, scores, rows, *targets, self.distill_weight,
                                               self.distill_temperature, self.cfg["label_smoothing"])
        elif rows is None or not len(scores):
            return super().get_loss(examples, scores)
        else:
            loss, d_scores = batch_loss(self.model.ops, scores, rows, self.cfg["label_smoothing"])
        if numpy.isnan(loss):
            raise ValueError(Errors.E910.format(name=self.name))
        return loss, d_scores

    def predict(self, docs: List[Doc]) -> List[numpy.ndarray]:
        """The model's tag probabilities, (n_tokens, n_tags) per Doc, as NumPy arrays; rescaled
        by the temperature fitted on dev data (`cfg["temperature"]`, see calibrate.py), if the
        component has one: then float64, so that no token's best tag changes.
        """
        probabilities, lengths = self._probabilities(docs)
        temperature = self.cfg.get(TEMPERATURE)
        if temperature is not None:
            probabilities = apply_temperature(probabilities, temperature)
        return split_per_doc(self.model.ops.to_numpy(probabilities), lengths)

    def predict_uncalibrated(self, docs: List[Doc]) -> List[numpy.ndarray]:
        """The model's tag probabilities per Doc, with no temperature: what a fit starts from."""
        probabilities, lengths = self._probabilities(docs)
        return split_per_doc(self.model.ops.to_numpy(probabilities), lengths)

    def _probabilities(self, docs: List[Doc]) -> Tuple[numpy.ndarray, List[int]]:
        """The model's probabilities for the Docs laid end to end, on the model's device, and
        each Doc's length: so that the batch takes one copy to the CPU, not one per Doc.

        A model that offers `predict_flat` (see contract.py) gives them as one array; another
        model's arrays per Doc are joined.
        """
        lengths = [len(doc) for doc in docs]
        if not any(lengths):
            return numpy.zeros((0, len(self.labels)), dtype="f"), lengths
        predict_flat = offered(self.model, PREDICT_FLAT)
        if predict_flat is not None:
            return predict_flat(self.model, docs)
        scores = self.model.predict(docs)
        flat = scores[0] if len(scores) == 1 else self.model.ops.xp.concatenate(scores)
        return flat, [len(doc_scores) for doc_scores in scores]

    def set_annotations(self, docs: List[Doc], scores: List[numpy.ndarray]) -> None:
        """Set each token's best tag; with store_probabilities, also its probability and alternatives.

        `token._.tag_prob` is the probability of `token.tag_`, and `token._.tag_alternatives` the
        top_k [tag, probability] pairs, best first, so its first tag is `token.tag_`. A token that
        keeps a different tag it already had (overwrite = false) gets None in both.
        """
        docs = [docs] if isinstance(docs, Doc) else docs
        if [len(doc_scores) for doc_scores in scores] != [len(doc) for doc in docs]:
            raise ValueError(f"{self.name}: the predictions do not match the Docs' lengths")
        self._set_tags(docs, scores)
        if not self.store_probabilities:
            return
        labels = self.labels
        for doc, probs in zip(docs, scores):
            # A stable sort breaks ties as argmax does, so the first alternative is the tag set.
            ranked = numpy.argsort(-probs, axis=1, kind="stable")[:, : self.top_k]
            for token, token_probs, best in zip(doc, probs, ranked):
                tagged = token.tag_ == labels[best[0]]
                token._.tag_prob = float(token_probs[best[0]]) if tagged else None
                token._.tag_alternatives = (
                    [[labels[i], float(token_probs[i])] for i in best] if tagged else None
                )

    def _set_tags(self, docs: List[Doc], scores: List[numpy.ndarray]) -> None:
        """Set each Doc's best tags with one `from_array`, as Tagger.set_annotations does token
        by token: with overwrite = false, a token keeps a tag it already has."""
        if not sum(len(doc) for doc in docs):
            return
        tags = self._label_hashes().hashes[numpy.concatenate(scores).argmax(axis=1)]
        overwrite = self.cfg["overwrite"]
        end = 0
        for doc in docs:
            start, end = end, end + len(doc)
            if start == end:
                continue
            doc_tags = tags[start:end]
            if not overwrite and doc.has_annotation("TAG"):
                existing = doc.to_array(TAG)
                doc_tags = numpy.where(existing == 0, doc_tags, existing)
            doc.from_array([TAG], doc_tags)

    def _label_hashes(self):
        """The labels' hashes, rebuilt when the labels change."""
        from .labels import LabelHashes  # not at import time

        if self._labels_as_hashes is None or self._labels_as_hashes.labels != self.labels:
            self._labels_as_hashes = LabelHashes(self.labels)
        return self._labels_as_hashes

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Iterable[str]] = None,
    ) -> None:
        """Add the labels, then initialize the model, as Tagger.initialize does.

        The labels come from `labels=` (as `spacy init labels` writes them) if given, else from
        the data's tags, beside any added with `add_label`; the data may then be untagged, or
        Docs without words. A model whose `initialize_with_all_docs` attr is set (see
        contract.py) gets every training Doc as X; any other, the first few, as Tagger gives them.

        get_examples (Callable[[], Iterable[Example]]): Returns the training examples.
        nlp (Language): The pipeline the component belongs to.
        labels (Optional[Iterable[str]]): Tags from `spacy init labels`; else read from the data.
        """
        corpus = read_corpus(get_examples, nlp)
        check_lexeme_norms(self.vocab, "tagger")
        for label in labels if labels is not None else sorted(corpus.tags):
            self.add_label(label)
        if not self.labels:
            raise no_tags_error(nlp, corpus)
        docs = distinct_docs(corpus.docs) if self.model.attrs.get(INITIALIZE_WITH_ALL_DOCS) else corpus.docs[:SAMPLE_SIZE]
        self.model.initialize(X=docs, Y=[self._gold_rows(example) for example in corpus.sample])

    def _gold_rows(self, example: Example):
        """One-hot rows (n_tokens, n_labels) of an example's gold tags, as Tagger's sample has them."""
        rows = {label: i for i, label in enumerate(self.labels)}
        truth = numpy.zeros((len(example.predicted), len(rows)), dtype="float32")
        for i, tag in enumerate(example.get_aligned("TAG", as_string=True)):
            if tag in rows:
                truth[i, rows[tag]] = 1.0
        return self.model.ops.asarray(truth)

    def to_disk(self, path, *, exclude=tuple()) -> None:
        """Save as Tagger does, with a checksum of the weights file beside it."""
        super().to_disk(path, exclude=exclude)
        if "model" not in exclude:
            write_checksum(Path(path) / "model")

    def from_disk(self, path, *, exclude=tuple()) -> "LSTMTagger":
        """Load as Tagger does, all or nothing; a missing or damaged file is named in the error."""
        path = Path(path)
        check_saved_files(path, exclude)
        with all_or_nothing(self, str(path / "model"), str(path / "cfg")):
            super().from_disk(path, exclude=[*exclude, "vocab"])
        if "vocab" not in exclude:
            self.vocab.from_disk(path / "vocab", exclude=exclude)
        return self

    def from_bytes(self, bytes_data, *, exclude=tuple()) -> "LSTMTagger":
        """Load as Tagger does, all or nothing, refusing weights that do not fit the labels."""
        with all_or_nothing(self, "the serialized lstm_tagger", "its cfg"):
            super().from_bytes(bytes_data, exclude=exclude)
        return self
