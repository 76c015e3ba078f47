#!/usr/bin/env bash
# GPU check, run from the repo root on a CUDA machine with spaCy, torch and CuPy installed:
# trains the default config with `spacy train --gpu-id 0`, loads the result on the CPU only,
# checks mixed precision trains, and measures GPU tagging (batch 2048) and training speed of
# lstm_tagger and of spaCy's built-in tagger: through nlp.update (what `spacy train` calls) for
# both, and through the lstm_tagger component's own update. Logs and JSON go to $OUT
# (default gpu-check/).
set -uo pipefail
OUT=${OUT:-gpu-check}
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

step() { echo; echo "=== $* ($(date +%T))"; }

step "machine"
nvidia-smi -L
$PY -c "import torch, cupy, spacy, thinc; print('torch', torch.__version__, '| cupy', cupy.__version__, '| spacy', spacy.__version__, '| thinc', thinc.__version__)"

step "spacy train configs/lstm_tagger.cfg --gpu-id 0 (1,000 steps)"
start=$(date +%s)
$PY -m spacy train configs/lstm_tagger.cfg --gpu-id 0 --output "$WORK/lstm" \
  --training.max_steps 1000 --training.eval_frequency 500 2>&1 | tee "$OUT/train-gpu.log"
echo "wall time: $(( $(date +%s) - start )) s"

step "the GPU-trained model on the CPU only"
CUDA_VISIBLE_DEVICES= $PY -c "
import spacy, torch
assert not torch.cuda.is_available()
nlp = spacy.load('$WORK/lstm/model-best')
print([(t.text, t.tag_) for t in nlp('The dog ate the apple.')])"
CUDA_VISIBLE_DEVICES= $PY -m spacy evaluate "$WORK/lstm/model-best" corpus/dev.spacy --gold-preproc 2>&1 | grep -E "TAG|SPEED"

step "mixed precision trains (300 steps)"
$PY -m spacy train configs/lstm_tagger.cfg --gpu-id 0 --output "$WORK/lstm-amp" \
  --components.lstm_tagger.model.mixed_precision true --training.max_steps 300 \
  --training.eval_frequency 300 2>&1 | tail -4

step "spaCy's built-in tagger on the GPU (300 steps, the speed baseline)"
$PY -c "
import sys; sys.path.insert(0, 'benchmarks')
from pathlib import Path
from common import write_config
print(write_config('spacy_cnn', Path('$WORK')))"
$PY -m spacy train "$WORK/spacy_cnn.cfg" --gpu-id 0 --output "$WORK/spacy" --paths.train corpus/train.spacy \
  --paths.dev corpus/dev.spacy --training.max_steps 300 --training.eval_frequency 300 2>&1 | tail -4

tag_speed() {  # $1: model name
  step "GPU tagging speed, $1, batch 2048"
  $PY benchmarks/measure.py tag_speed "{\"model\": \"$WORK/$1/model-best\", \"repeats\": 5, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true}" \
    | tee "$OUT/tag-gpu-$1.json"
}
train_speed() {  # $1: model name, $2: nlp or component, $3: words per batch
  step "GPU training speed, $1, through $2.update, batches of $3 words"
  $PY benchmarks/measure.py train_speed "{\"model\": \"$WORK/$1/model-best\", \"steps\": 20, \"repeats\": 3, \"batch_words\": $3, \"gpu\": true, \"through\": \"$2\"}" \
    | tee "$OUT/train-gpu-$1-$2-$3.json"
}
tag_speed lstm
tag_speed spacy
train_speed lstm nlp 8000
train_speed spacy nlp 8000
train_speed lstm component 8000
train_speed lstm component 32000

step "GPU tests"
$PY -m pytest -q -m gpu -p no:cacheprovider tests 2>&1 | tail -3
