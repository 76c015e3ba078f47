#!/usr/bin/env bash
# The main job: set up .venv, train the default config on corpus/ (its meta from corpus/meta.json),
# evaluate it, then tag a sentence.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m spacy train configs/lstm_tagger.cfg --output training/ "$@"
# The training data's description, licence (CC BY-SA 4.0) and sources, for `spacy package`.
.venv/bin/python -m spacy lstm-tagger meta corpus/meta.json training/model-best training/model-last
.venv/bin/python -m spacy evaluate training/model-best corpus/dev.spacy --gold-preproc
.venv/bin/python - <<'PY'
import spacy

nlp = spacy.load("training/model-best")
for doc in nlp.pipe(["The dog ate the apple.", "Everybody read that book."]):
    print(" ".join(f"{token.text}/{token.tag_}" for token in doc))
PY
