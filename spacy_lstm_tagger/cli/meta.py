"""Give trained pipelines the description, licence and sources of their training data.

    python -m spacy_lstm_tagger.meta corpus/meta.json training/model-best training/model-last

Each pipeline's meta.json takes the keys of the given file and keeps its own others (name,
version, performance); `spacy package` then writes them into the package and its wheel."""
import argparse
import json
from pathlib import Path
from typing import List, Optional


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


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m spacy_lstm_tagger.meta", description=__doc__.split("\n")[0])
    parser.add_argument("meta_file", type=Path, help="a JSON object: description, license, sources, ...")
    parser.add_argument("pipelines", type=Path, nargs="+", help="saved pipeline directories")
    args = parser.parse_args(argv)
    add_meta(args.meta_file, args.pipelines)


if __name__ == "__main__":
    main()
