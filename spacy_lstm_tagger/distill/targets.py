"""The teachers' averaged tag probabilities for a list of Docs, made once and cached on disk.

Tagging a large raw text with several teachers is the slow part of distillation, so the result
is kept in `cache/` under a key made from the teachers' files and the data's bytes: a second
run with the same teachers and data reads it back. The probabilities are stored as float16.
"""
import hashlib
from pathlib import Path
from typing import Iterable, List, NamedTuple, Sequence

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from tqdm import tqdm

CACHE_VERSION = 1
BATCH_SIZE = 256


class TeacherTargets(NamedTuple):
    """The teachers' averaged probabilities of the Docs' tokens laid end to end, each Doc's
    length, and the labels the columns stand for."""

    probabilities: numpy.ndarray  # float16, (n_tokens, n_labels)
    lengths: numpy.ndarray  # int64, (n_docs,)
    labels: tuple

    def per_doc(self) -> List[numpy.ndarray]:
        """The probabilities of each Doc (views, not copies)."""
        ends = numpy.cumsum(self.lengths)
        return [self.probabilities[end - length : end] for end, length in zip(ends, self.lengths)]


def cached_targets(teachers: Sequence[Path], docs: List[Doc], sources: Sequence[Path], cache: Path,
                   name: str) -> TeacherTargets:
    """The teachers' targets for `docs`, read from `cache` if made before from the same teacher
    files, `sources` (the files the Docs were read from) and `name` (how they were read);
    else made, with a progress bar, and written there."""
    key = hashlib.sha1(f"{CACHE_VERSION} {name}".encode())
    for path in [*teachers, *sources]:
        key.update(_fingerprint(Path(path)).encode())
    file = Path(cache) / f"{name}-{key.hexdigest()[:16]}.npz"
    lengths = numpy.asarray([len(doc) for doc in docs], dtype="int64")
    if file.exists():
        with numpy.load(file) as saved:
            if numpy.array_equal(saved["lengths"], lengths):
                return TeacherTargets(saved["probabilities"], lengths, tuple(saved["labels"].tolist()))
    targets = teacher_targets([spacy.load(path) for path in teachers], docs, f"{name}: tagging with the teachers")
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_suffix(".partial.npz")
    numpy.savez(partial, probabilities=targets.probabilities, lengths=targets.lengths,
                labels=numpy.asarray(targets.labels))
    partial.replace(file)
    return targets


def teacher_targets(teachers: Sequence[Language], docs: List[Doc], description: str = "") -> TeacherTargets:
    """The mean of the teachers' tag probabilities (their lstm_tagger's, calibrated if it has a
    temperature) for each token of `docs`. Every teacher must tag with the same labels."""
    taggers = [_tagger(nlp) for nlp in teachers]
    labels = tuple(sorted(taggers[0].labels))
    for tagger in taggers[1:]:
        if set(tagger.labels) != set(labels):
            raise ValueError(f"lstm_tagger distill: the teachers tag with different labels: {sorted(labels)} "
                             f"and {sorted(tagger.labels)}")
    lengths = numpy.asarray([len(doc) for doc in docs], dtype="int64")
    total = numpy.zeros((int(lengths.sum()), len(labels)), dtype="float32")
    with tqdm(total=len(docs) * len(taggers), desc=description or None, unit="doc", disable=not description) as bar:
        for nlp, tagger in zip(teachers, taggers):
            columns = [tagger.labels.index(label) for label in labels]
            start = 0
            for batch in _batches(docs):
                words = [Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
                         for doc in batch]
                for scores in tagger.predict(words):
                    total[start : start + len(scores)] += numpy.asarray(scores)[:, columns]
                    start += len(scores)
                bar.update(len(batch))
    total /= len(taggers)
    return TeacherTargets(total.astype("float16"), lengths, labels)


def _tagger(nlp: Language):
    """The pipeline's lstm_tagger component."""
    for name, factory in zip(nlp.pipe_names, (nlp.get_pipe_meta(n).factory for n in nlp.pipe_names)):
        if factory == "lstm_tagger":
            return nlp.get_pipe(name)
    raise ValueError(f"lstm_tagger distill: a teacher has no lstm_tagger component (its pipes: {nlp.pipe_names})")


def _batches(docs: List[Doc]) -> Iterable[List[Doc]]:
    for start in range(0, len(docs), BATCH_SIZE):
        yield docs[start : start + BATCH_SIZE]


def _fingerprint(path: Path) -> str:
    """The SHA-1 of a file's bytes, or of a folder's files (names and bytes)."""
    digest = hashlib.sha1()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
