"""The corpus reader `spacy_lstm_tagger.DistillationCorpus.v1`: the training Docs and raw text,
each example's reference Doc carrying its teachers' averaged tag probabilities."""
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Union

import srsly
from spacy.language import Language
from spacy.training import Corpus, Example
from spacy.util import registry

from ..pipeline.loss import TEACHER_LABELS, TEACHER_PROBABILITIES
from .targets import TeacherTargets, cached_targets


@registry.readers("spacy_lstm_tagger.DistillationCorpus.v1")
def create_distillation_corpus(
    path: Optional[Path],
    teachers: List[str],
    cache: Path,
    raw_text: List[str] = [],
    gold_preproc: bool = True,
    limit: int = 0,
    raw_limit: int = 0,
    gold_repeats: int = 0,
) -> Callable[[Language], Iterable[Example]]:
    """Read the training Docs of `path` (as spacy.Corpus.v1 does) and the texts of the raw_text
    JSONL files or folders of them (a `text` per line, as `spacy apply` reads them), and give each
    example its teachers' averaged tag probabilities, made once and cached in `cache`.

    path (Optional[Path]): The .spacy training data (None: raw text only).
    teachers (List[str]): Trained pipelines with an lstm_tagger component, all with the same labels.
    cache (Path): Where the teachers' probabilities are kept.
    raw_text (List[str]): JSONL files, or folders whose .jsonl files are read in name order.
    gold_preproc (bool): Read the training Docs' gold tokens (as spacy.Corpus.v1).
    limit (int): Read at most this many training Docs (0: all).
    raw_limit (int): Read at most this many raw texts (0: all).
    gold_repeats (int): How many times each training Doc comes in an epoch (0: as many times as
        makes the training Docs' words about as many as the raw text's, at least once). A Doc
        repeated is the same Doc object, which initialize counts once.
    """
    if not isinstance(gold_repeats, int) or gold_repeats < 0:
        raise ValueError(f"lstm_tagger distill: gold_repeats must be a non-negative integer, got {gold_repeats!r}")
    return DistillationCorpus(path, [Path(t) for t in teachers], Path(cache), _jsonl_files(raw_text),
                              gold_preproc, limit, raw_limit, gold_repeats)


class DistillationCorpus:
    """Made once per pipeline: the examples (and their probabilities, which are large) are
    kept, as spacy train reads the corpus at initialize and again to train."""

    def __init__(self, path, teachers, cache, raw_files, gold_preproc, limit, raw_limit, gold_repeats):
        if not teachers:
            raise ValueError("lstm_tagger distill: give at least one teacher pipeline")
        self.path, self.teachers, self.cache = path, teachers, cache
        self.raw_files, self.gold_preproc, self.limit, self.raw_limit = raw_files, gold_preproc, limit, raw_limit
        self.gold_repeats = gold_repeats
        self._examples: Optional[List[Example]] = None

    def __call__(self, nlp: Language) -> Iterable[Example]:
        if self._examples is None:
            gold, raw = self._gold(nlp), self._raw(nlp)
            repeats = self.gold_repeats or _balancing_repeats(gold, raw)
            self._examples = gold * repeats + raw
        return iter(self._examples)

    def _gold(self, nlp: Language) -> List[Example]:
        if self.path is None:
            return []
        examples = list(Corpus(self.path, gold_preproc=self.gold_preproc, limit=self.limit)(nlp))
        name = f"train-{'gold' if self.gold_preproc else 'tokenized'}-{self.limit}"
        _attach(examples, cached_targets(self.teachers, [eg.predicted for eg in examples], [self.path],
                                         self.cache, name))
        return examples

    def _raw(self, nlp: Language) -> List[Example]:
        if not self.raw_files:
            return []
        texts = (line["text"] for file in self.raw_files for line in srsly.read_jsonl(file)
                 if isinstance(line, dict) and str(line.get("text", "")).strip())
        docs = (nlp.make_doc(text) for text in islice(texts, self.raw_limit or None))
        examples = [Example(doc, doc.copy()) for doc in docs if len(doc)]
        _attach(examples, cached_targets(self.teachers, [eg.predicted for eg in examples], self.raw_files,
                                         self.cache, f"raw-{self.raw_limit}"))
        return examples


def _balancing_repeats(gold: List[Example], raw: List[Example]) -> int:
    """The repeats that make the training Docs' words about as many as the raw text's (at least 1):
    else, with a few hundred thousand gold words beside millions of raw ones, the student would
    see each gold sentence a few times only, where its teachers saw it dozens of times."""
    gold_words = sum(len(eg.predicted) for eg in gold)
    raw_words = sum(len(eg.predicted) for eg in raw)
    return max(1, round(raw_words / gold_words)) if gold_words else 1


def _attach(examples: List[Example], targets: TeacherTargets) -> None:
    for eg, probabilities in zip(examples, targets.per_doc()):
        eg.reference.user_data[TEACHER_PROBABILITIES] = probabilities
        eg.reference.user_data[TEACHER_LABELS] = targets.labels


def _jsonl_files(paths: List[Union[str, Path]]) -> List[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(path.glob("*.jsonl"))
        elif path.exists():
            files.append(path)
        else:
            raise ValueError(f"lstm_tagger distill: no raw text at {path}")
    return files
