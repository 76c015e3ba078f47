"""The tagging step of tag_corpus: a callable class that Ray Data runs in each actor of its pool,
loading the pipeline once per actor. No Ray here."""
import json
from typing import List, Union

import pyarrow
import spacy
from spacy.tokens import Doc

from .inputs import EXCERPT_CHARS

TAGGED = pyarrow.schema(
    [
        ("file", pyarrow.string()),
        ("line", pyarrow.int64()),
        ("end", pyarrow.bool_()),
        ("error", pyarrow.string()),
        ("excerpt", pyarrow.string()),
        ("output", pyarrow.string()),
        ("tokens", pyarrow.int64()),
    ]
)


class TagRecords:
    """Tags the texts of a batch of rows (`inputs.read_records`) and gives each its output record
    as a line of JSON; error and end rows pass through.

    model (str): A pipeline directory or an installed package name.
    probabilities (bool): Also give `tag_probs`, the probability of each tag (`token._.tag_prob`).
    gpu (bool): Tag on this actor's GPU.
    max_chars (int): The longest text the rows hold; the pipeline's `max_length` is raised to it.
    """

    def __init__(self, model: str, probabilities: bool = False, gpu: bool = False, max_chars: int = 0) -> None:
        import torch

        torch.set_num_threads(1)  # one worker per core: a thread pool in each would oversubscribe them
        if gpu:
            spacy.require_gpu()
        self.nlp = spacy.load(model)
        self.nlp.max_length = max(self.nlp.max_length, max_chars)
        self.probabilities = probabilities
        if probabilities:
            taggers = [pipe for name, pipe in self.nlp.pipeline if self.nlp.get_pipe_meta(name).factory == "lstm_tagger"]
            if not taggers:
                raise ValueError(f"tag_corpus: {model} has no lstm_tagger, so --probabilities has none to give")
            for tagger in taggers:
                tagger.store_probabilities = True

    def __call__(self, batch: pyarrow.Table) -> pyarrow.Table:
        rows = batch.to_pylist()
        todo = [row for row in rows if row["error"] is None and not row["end"]]
        for row, doc in zip(todo, self._tag([row["text"] for row in todo])):
            if isinstance(doc, str):
                row["error"], row["excerpt"] = doc, row["text"][:EXCERPT_CHARS]
            else:
                row["output"], row["tokens"] = self._output(row, doc), len(doc)
        return pyarrow.Table.from_pylist(rows, schema=TAGGED)

    def _tag(self, texts: List[str]) -> List[Union[Doc, str]]:
        """Each text's tagged Doc; if the batch fails, each text on its own, with the reason
        in place of the Doc of a text that fails alone."""
        try:
            return list(self.nlp.pipe(texts))
        except Exception:  # noqa: BLE001 - any failure is a record's error, not the run's
            return [self._tag_one(text) for text in texts]

    def _tag_one(self, text: str) -> Union[Doc, str]:
        try:
            return self.nlp(text)
        except Exception as exc:  # noqa: BLE001
            return f"tagging failed: {type(exc).__name__}: {exc}"

    def _output(self, row: dict, doc: Doc) -> str:
        """The output record: `_file`, `_line`, the input's other fields, `text`, `tokens`, `tags`
        and, with probabilities, `tag_probs`."""
        record = {"_file": row["file"], "_line": row["line"]}
        tagged = {"text": row["text"], "tokens": [t.text for t in doc], "tags": [t.tag_ for t in doc]}
        if self.probabilities:
            tagged["tag_probs"] = [t._.tag_prob for t in doc]
        head = json.dumps(record)[:-1]
        tail = json.dumps(tagged, ensure_ascii=False)[1:]
        fields = row["fields"][1:-1] if row["fields"] not in (None, "{}") else ""
        return f"{head}, {fields}, {tail}" if fields else f"{head}, {tail}"
