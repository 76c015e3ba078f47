"""Give trained pipelines the description, licence and sources of their training data.

    python -m spacy lstm-tagger meta corpus/meta.json training/model-best training/model-last

Each pipeline's meta.json takes the keys of the given file and keeps its own others (name,
version, performance); `spacy package` then writes them into the package and its wheel."""
import json
from pathlib import Path
from typing import List


def add_meta(meta_file: Path, pipelines: List[Path]) -> None:
    """Write the keys of `meta_file` into the meta.json of each pipeline directory."""
    extra = json.loads(Path(meta_file).read_text())
    for pipeline in pipelines:
        path = Path(pipeline) / "meta.json"
        if not path.is_file():
            raise FileNotFoundError(f"{pipeline} has no meta.json: is it a saved pipeline?")
        meta = json.loads(path.read_text())
        meta.update(extra)
        path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
