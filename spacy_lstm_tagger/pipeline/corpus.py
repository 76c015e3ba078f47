"""Read the training data at initialize, with errors that name the corpus."""
from typing import Callable, Iterable, List, NamedTuple, Optional, Set

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_get_examples

from .loss import TEACHER_LABELS

SAMPLE_SIZE = 10  # examples whose gold tags show the model its output shape, as in spaCy's Tagger


class Corpus(NamedTuple):
    """What initialize needs of the training data: every predicted Doc, the set of tags (gold,
    and those its teachers tag with, under distillation), and the first few examples."""

    docs: List[Doc]
    tags: Set[str]
    sample: List[Example]


def read_corpus(get_examples: Callable[[], Iterable[Example]], nlp: Optional[Language]) -> Corpus:
    """Read every training example once; refuse what spaCy's Tagger refuses, naming the corpus.

    Not a callable, or no examples in a list: TypeError, as spaCy's. Not Examples, or not
    readable: ValueError. No examples at all: ValueError (spaCy's Tagger fails an assert).
    """
    name = corpus_name(nlp)
    docs, tags, sample = [], set(), []
    try:
        validate_get_examples(get_examples, "LSTMTagger.initialize")
        for example in get_examples():
            docs.append(example.predicted)
            tags.update(token.tag_ for token in example.reference if token.tag_)
            tags.update(example.reference.user_data.get(TEACHER_LABELS, ()))
            if len(sample) < SAMPLE_SIZE:
                sample.append(example)
    except (TypeError, ValueError) as error:
        raise type(error)(f"lstm_tagger: cannot read {name}: {error}") from error
    if not docs:
        raise ValueError(f"lstm_tagger: {name} is empty: it holds no Docs to train on")
    return Corpus(docs, tags, sample)


def distinct_docs(docs: List[Doc]) -> List[Doc]:
    """The Docs, each object once: a corpus that repeats a Doc in an epoch (a distillation
    corpus, which balances gold Docs against raw text) gives it once to the feature tables."""
    seen = set()
    return [doc for doc in docs if not (id(doc) in seen or seen.add(id(doc)))]


def no_tags_error(nlp: Optional[Language], corpus: Corpus) -> ValueError:
    """The error for a component that has no labels and data without tags."""
    return ValueError(
        f"lstm_tagger: {corpus_name(nlp)} has no tags: no token in its {len(corpus.docs)} Doc(s) has a "
        f"tag_, and no labels were given. Convert the data with its tags (python -m spacy "
        f"lstm-tagger convert), or give the labels (add_label, or `spacy init labels`)"
    )


def corpus_name(nlp: Optional[Language]) -> str:
    """'the training corpus PATH' if the pipeline's config names the corpus `spacy train` reads."""
    try:
        config = nlp.config.interpolate()
        section = config
        for key in config["training"]["train_corpus"].split("."):
            section = section[key]
        path = section["path"]
    except Exception:  # a pipeline built in Python need not have a complete config
        path = None
    return f"the training corpus {path}" if path else "the training data"
