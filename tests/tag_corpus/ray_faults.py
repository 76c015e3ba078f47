"""A Ray worker set-up hook for the fault test: the first tagging actor to tag N batches exits at
once, as a killed process would, and leaves a marker file; no other actor exits. Its settings come
from the environment the test gives Ray's workers."""
import os

EXIT_AFTER = "TAG_CORPUS_TEST_EXIT_AFTER_BATCHES"
MARKER = "TAG_CORPUS_TEST_EXIT_MARKER"


def exit_after_batches() -> None:
    from spacy_lstm_tagger.tag_corpus import tagging

    limit, marker = int(os.environ[EXIT_AFTER]), os.environ[MARKER]
    tag = tagging.TagRecords.__call__

    def tag_then_maybe_exit(self, batch):
        tagged = tag(self, batch)
        self.batches_tagged = getattr(self, "batches_tagged", 0) + 1
        if self.batches_tagged == limit:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return tagged
            os._exit(1)  # before the batch is returned: its task must run again
        return tagged

    tagging.TagRecords.__call__ = tag_then_maybe_exit
