"""The teachers' averaged probabilities, the cache that keeps them, and the reader that gives
them to spacy train."""
import numpy
import pytest
import spacy
import srsly
from spacy.tokens import Doc

from conftest import TUTORIAL_DATA, train_tutorial_tagger
from spacy_lstm_tagger.distill import targets as targets_module
from spacy_lstm_tagger.distill.reader import create_distillation_corpus
from spacy_lstm_tagger.distill.targets import cached_targets, teacher_targets
from spacy_lstm_tagger.pipeline.loss import TEACHER_LABELS, TEACHER_PROBABILITIES


@pytest.fixture(scope="module")
def teachers(tmp_path_factory):
    """Two tutorial taggers, trained for different numbers of steps, saved."""
    folder = tmp_path_factory.mktemp("teachers")
    paths = []
    for steps in (10, 30):
        nlp = train_tutorial_tagger(steps)
        nlp.to_disk(folder / f"t{steps}")
        paths.append(folder / f"t{steps}")
    return paths


def word_docs(vocab, sentences):
    return [Doc(vocab, words=words) for words in sentences]


def test_the_targets_are_the_mean_of_the_teachers_probabilities(teachers):
    pipelines = [spacy.load(path) for path in teachers]
    sentences = [words for words, _ in TUTORIAL_DATA] + [["a", "cat", "ate"]]
    result = teacher_targets(pipelines, word_docs(spacy.blank("en").vocab, sentences))
    assert result.labels == ("DET", "NN", "V") and result.lengths.tolist() == [5, 4, 3]
    each = []
    for nlp in pipelines:
        tagger = nlp.get_pipe("lstm_tagger")
        columns = [tagger.labels.index(label) for label in result.labels]
        each.append(numpy.concatenate(tagger.predict(word_docs(nlp.vocab, sentences)))[:, columns])
    numpy.testing.assert_allclose(result.probabilities, numpy.mean(each, axis=0), atol=1e-3)
    assert result.probabilities.dtype == numpy.float16
    assert [len(p) for p in result.per_doc()] == [5, 4, 3]


def test_the_cache_is_read_back_and_made_again_when_the_docs_change(teachers, tmp_path, monkeypatch):
    source = tmp_path / "source.txt"
    source.write_text("one")
    vocab = spacy.blank("en").vocab
    docs = word_docs(vocab, [words for words, _ in TUTORIAL_DATA])
    first = cached_targets(teachers, docs, [source], tmp_path / "cache", "train")
    assert len(list((tmp_path / "cache").glob("train-*.npz"))) == 1
    monkeypatch.setattr(targets_module.spacy, "load", lambda path: pytest.fail("the cache was not used"))
    again = cached_targets(teachers, docs, [source], tmp_path / "cache", "train")
    numpy.testing.assert_array_equal(again.probabilities, first.probabilities)
    assert again.labels == first.labels
    monkeypatch.undo()
    shorter = cached_targets(teachers, docs[:1], [source], tmp_path / "cache", "train")  # another tokenization
    assert shorter.lengths.tolist() == [5]
    source.write_text("two")  # other data: another key
    cached_targets(teachers, docs, [source], tmp_path / "cache", "train")
    assert len(list((tmp_path / "cache").glob("train-*.npz"))) == 2


def test_the_reader_gives_raw_text_with_the_teachers_probabilities(teachers, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    srsly.write_jsonl(raw / "a.jsonl", [{"text": "The dog read that book"}, {"text": "  "}, {"text": "A cat"}])
    srsly.write_jsonl(raw / "b.jsonl", [{"text": "Everybody ate"}])
    corpus = create_distillation_corpus(None, [str(t) for t in teachers], tmp_path / "cache", raw_text=[str(raw)])
    examples = list(corpus(spacy.blank("en")))
    assert [eg.predicted.text for eg in examples] == ["The dog read that book", "A cat", "Everybody ate"]
    for eg in examples:
        assert not eg.reference.has_annotation("TAG")
        assert eg.reference.user_data[TEACHER_PROBABILITIES].shape == (len(eg.predicted), 3)
        assert eg.reference.user_data[TEACHER_LABELS] == ("DET", "NN", "V")
    assert list(corpus(spacy.blank("en")))[0] is examples[0]  # read once
    with pytest.raises(ValueError, match="no raw text at"):
        create_distillation_corpus(None, [str(t) for t in teachers], tmp_path, raw_text=[str(tmp_path / "nothing")])


def test_the_training_docs_repeat_to_balance_the_raw_text(teachers, tmp_path):
    """The tutorial's 2 sentences (9 words) beside 40 raw words come 4 times an epoch, as the
    same objects; initialize reads each Doc once."""
    from spacy.tokens import DocBin

    from conftest import tutorial_examples
    from spacy_lstm_tagger.pipeline.corpus import distinct_docs, read_corpus

    nlp = spacy.blank("en")
    DocBin(docs=[eg.reference for eg in tutorial_examples(nlp)]).to_disk(tmp_path / "train.spacy")
    srsly.write_jsonl(tmp_path / "raw.jsonl", [{"text": " ".join(["the dog read"] * 2 + ["that book"] * 2)}] * 4)
    corpus = create_distillation_corpus(tmp_path / "train.spacy", [str(t) for t in teachers], tmp_path / "cache",
                                        raw_text=[str(tmp_path / "raw.jsonl")])
    examples = list(corpus(nlp))
    assert len(examples) == 2 * 4 + 4 and examples[0] is examples[2]
    assert len(distinct_docs(read_corpus(lambda: corpus(nlp), nlp).docs)) == 2 + 4
    fixed = create_distillation_corpus(tmp_path / "train.spacy", [str(t) for t in teachers], tmp_path / "cache",
                                       raw_text=[str(tmp_path / "raw.jsonl")], gold_repeats=1)
    assert len(list(fixed(nlp))) == 2 + 4
