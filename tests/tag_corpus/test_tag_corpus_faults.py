"""tag_corpus survives a tagging actor killed mid-run: Ray starts the actor again and runs the
batches it held again, and every record is written once, with nlp.pipe's tags."""
import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="tag_corpus needs the ray extra: pip install -e '.[ray]'")

from ray_faults import EXIT_AFTER, MARKER  # noqa: E402
from spacy_lstm_tagger.tag_corpus import tag_corpus  # noqa: E402
from tag_corpus_helpers import TEXTS, check_every_record_once, read_output, start_local_ray, write_corpus  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_an_actor_killed_mid_run(tutorial_model_path, tutorial_nlp, tmp_path):
    expected = write_corpus(tmp_path / "corpus")
    marker = tmp_path / "an actor exited"
    hook_folder = Path(__file__).resolve().parent  # where the workers import ray_faults from
    assert (hook_folder / "ray_faults.py").is_file()
    workers_env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook_folder), os.environ.get("PYTHONPATH")])),
        EXIT_AFTER: "3",
        MARKER: str(marker),
    }
    start_local_ray(ray, runtime_env={"env_vars": workers_env, "worker_process_setup_hook": "ray_faults.exit_after_batches"})
    try:
        summary = tag_corpus(str(tutorial_model_path), str(tmp_path / "corpus"), str(tmp_path / "out"),
                             workers=2, batch_size=50)
    finally:
        ray.shutdown()
    assert marker.exists()  # an actor exited after its third batch (of some 26), before returning it
    records, errors = read_output(tmp_path / "out")
    check_every_record_once(records, errors, expected)
    tags = {doc.text: [t.tag_ for t in doc] for doc in tutorial_nlp.pipe(TEXTS)}
    assert all(r["tags"] == tags[r["text"]] for r in records)
    assert summary.records == len(records) and summary.failed == len(errors) == 5
