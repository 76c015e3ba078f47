"""Load a saved lstm_tagger all or nothing, with errors that name the missing or damaged file."""
import contextlib
import copy
import hashlib
import warnings
from pathlib import Path
from typing import Iterable, Iterator

import srsly
from spacy.pipeline import TrainablePipe

from ..contract import WeightsError

CHECKSUM_SUFFIX = ".sha256"
_COPY_AGAIN = "copy the saved pipeline again, or train and save it again"


def write_checksum(model_path: Path) -> None:
    """Save the SHA-256 of the weights file beside it, so that a damaged copy is recognised."""
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    Path(f"{model_path}{CHECKSUM_SUFFIX}").write_text(digest + "\n", encoding="utf8")


def check_saved_files(path: Path, exclude: Iterable[str]) -> None:
    """Refuse a component folder that is missing, lacks a file, or holds a damaged cfg or model.

    A model without a checksum file beside it (saved by an older version) is not checked here;
    loading it still fails with a named file if it cannot be read.
    """
    if not path.is_dir():
        raise FileNotFoundError(f"lstm_tagger: the component folder {path} is missing; {_COPY_AGAIN}")
    if "cfg" not in exclude:
        try:
            cfg = srsly.json_loads(_read_existing(path / "cfg"))
        except ValueError:
            cfg = None
        if not isinstance(cfg, dict) or not isinstance(cfg.get("labels"), list):
            raise ValueError(
                f"lstm_tagger: {path / 'cfg'} is damaged: it is not a JSON object with a list of labels; {_COPY_AGAIN}"
            )
    if "model" not in exclude:
        model = _read_existing(path / "model")
        checksum = path / f"model{CHECKSUM_SUFFIX}"
        if checksum.is_file() and hashlib.sha256(model).hexdigest() != checksum.read_text(encoding="utf8").strip():
            raise ValueError(
                f"lstm_tagger: {path / 'model'} is damaged (truncated or corrupted): it does not "
                f"match the checksum saved with it in {checksum.name}; {_COPY_AGAIN}"
            )


@contextlib.contextmanager
def all_or_nothing(pipe: TrainablePipe, model_source: str, cfg_source: str) -> Iterator[None]:
    """Load into `pipe` inside this block; if anything fails, put its cfg and model back as they were.

    After loading, the number of labels in the cfg must equal the number of tags the weights score.
    Errors become ValueErrors that name `model_source` or `cfg_source`.
    """
    cfg, model_bytes = copy.deepcopy(pipe.cfg), pipe.model.to_bytes()
    try:
        yield
        _check_labels(pipe, model_source, cfg_source)
    except Exception as error:
        pipe.cfg.clear()
        pipe.cfg.update(cfg)
        with warnings.catch_warnings():  # an uninitialized network has an empty output layer
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            pipe.model.from_bytes(model_bytes)
        if isinstance(error, WeightsError):
            reason = str(error).replace("lstm_tagger: ", "", 1)
        else:
            reason = f"it is damaged ({type(error).__name__}: {error})"
        raise ValueError(f"lstm_tagger: cannot load {model_source}: {reason}") from error


def _read_existing(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"lstm_tagger: {path} is missing; {_COPY_AGAIN}")
    return path.read_bytes()


def _check_labels(pipe: TrainablePipe, model_source: str, cfg_source: str) -> None:
    if not pipe.model.has_dim("nO"):
        return
    n_tags, labels = pipe.model.get_dim("nO"), list(pipe.labels)
    if n_tags != len(labels):
        raise WeightsError(
            f"its weights score {n_tags} tags, but {cfg_source} lists {len(labels)} labels {labels}; "
            f"the labels were changed after training: restore the cfg saved with the model"
        )
