"""Write a copy of a pipeline whose lstm_tagger components tag with int8 weights on a CPU.

    python -m spacy lstm-tagger quantize IN_MODEL OUT_MODEL

The copy's config sets `quantize = true` on every lstm_tagger component, so `spacy.load` and
`spacy package` give the int8 tagger with no override. Its saved weights are the float ones, and
the int8 weights are made from them at load: `quantize = false` (a load-time override) gives back
the float tagger exactly, and the copy is the same size on disk.
"""
from pathlib import Path
from typing import List

import spacy

FACTORY = "lstm_tagger"


def quantize_pipeline(source: str, output: Path) -> List[str]:
    """Save `source` (a pipeline directory or package name) to `output` with quantize = true on
    each lstm_tagger component; return their names."""
    output = Path(output)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValueError(f"lstm_tagger: {output} exists and is not an empty folder; choose a new OUT_MODEL")
    float_nlp = spacy.load(source)
    names = [name for name in float_nlp.pipe_names if float_nlp.get_pipe_meta(name).factory == FACTORY]
    if not names:
        raise ValueError(f"lstm_tagger: {source} has no {FACTORY} component to quantize")
    nlp = spacy.load(source, config={"components": {name: {"quantize": True} for name in names}})
    nlp.to_disk(output)
    return names
