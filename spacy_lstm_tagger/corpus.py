"""Read the training Docs at initialize, with errors that name the corpus."""
from typing import Callable, Iterable, List, Optional

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_get_examples


def training_docs(
    get_examples: Callable[[], Iterable[Example]], nlp: Optional[Language], need_tags: bool
) -> List[Doc]:
    """Return the predicted Doc of every training example; refuse unreadable or empty data.

    need_tags (bool): The labels come from the data, so some token must carry a tag.
    """
    corpus = corpus_name(nlp)
    docs, tagged = [], False
    try:
        validate_get_examples(get_examples, "LSTMTagger.initialize")
        for example in get_examples():
            docs.append(example.predicted)
            tagged = tagged or example.reference.has_annotation("TAG")
    except ValueError as error:
        raise ValueError(f"lstm_tagger: cannot read {corpus}: {error}") from error
    if not docs:
        raise ValueError(f"lstm_tagger: {corpus} is empty: it holds no Docs to train on")
    if need_tags and not tagged:
        raise ValueError(
            f"lstm_tagger: {corpus} has no tags: no token in its {len(docs)} Doc(s) has a tag_. "
            f"Convert the data with its tags (python -m spacy_lstm_tagger.convert)"
        )
    return docs


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
