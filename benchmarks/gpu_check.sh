#!/usr/bin/env bash
# GPU check, run from the repo root on a CUDA machine with spaCy, torch and CuPy installed (it
# installs nothing). Three phases, made to fit in under ten minutes:
#   1. alone on the GPU: 300-step trainings of lstm_tagger and of spaCy's efficiency tagger (the
#      models to time), then tagging words/s at batch 2,048 (float32 and mixed precision, and
#      spaCy's tagger), then training words/s through nlp.update on 8,000-word batches;
#   2. at once, sharing the GPU, each stopped after $TRAIN_SECONDS: the default config in float32
#      (its full 8,000 steps if time allows) and with mixed precision (3,000 steps), the GPU config
#      (configs/lstm_tagger_gpu.cfg) at three batch sizes, and `pytest -m gpu`;
#   3. the float32 run's model on a CPU-only process.
# Every line of a training log starts with the Unix time it was printed, so time-to-accuracy can
# be read off. Output goes to $OUT (default gpu-check/): gpu-check.log, trainings.log, speed.jsonl.
set -uo pipefail
OUT=${OUT:-gpu-check}
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
TRAIN_SECONDS=${TRAIN_SECONDS:-300}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

step() { echo; echo "=== $* ($(date +%T))"; }
stamp() { while IFS= read -r line; do printf '%(%s)T %s\n' -1 "$line"; done; }
train() {  # $1: run name, $2: config, then overrides; the log goes to $WORK/$1.log
  local name=$1 config=$2
  shift 2
  echo "$(date +%s) start: spacy train $config --gpu-id 0 $*" > "$WORK/$name.log"
  timeout "$TRAIN_SECONDS" $PY -m spacy train "$config" --gpu-id 0 --output "$WORK/$name" "$@" 2>&1 | stamp >> "$WORK/$name.log"
  echo "$(date +%s) end" >> "$WORK/$name.log"
}
measure() {  # $1: label, $2: job, $3: JSON arguments
  local result
  result=$($PY benchmarks/measure.py "$2" "$3") || { echo "$1: failed"; return; }
  echo "$result"
  echo "{\"label\": \"$1\", \"result\": $result}" >> "$OUT/speed.jsonl"
}

main() {
step "machine"
nvidia-smi -L
$PY -c "import torch, cupy, spacy, thinc; print('torch', torch.__version__, '| cupy', cupy.__version__, '| spacy', spacy.__version__, '| thinc', thinc.__version__)"

step "phase 1: 300-step trainings (the models to time; lstm_tagger's is also the canary)"
$PY -c "
import sys; sys.path.insert(0, 'benchmarks')
from pathlib import Path
from common import write_config
print(write_config('spacy_cnn', Path('$WORK')))"
train lstm300 configs/lstm_tagger.cfg --training.max_steps 300 --training.eval_frequency 300 &
train spacy300 "$WORK/spacy_cnn.cfg" --paths.train corpus/train.spacy --paths.dev corpus/dev.spacy \
  --training.max_steps 300 --training.eval_frequency 300 &
wait
tail -n 4 "$WORK/lstm300.log" "$WORK/spacy300.log"
if [ ! -d "$WORK/lstm300/model-best" ]; then
  cat "$WORK/lstm300.log"
  echo "lstm_tagger did not train on the GPU: stopping"
  exit 1
fi

LSTM=$WORK/lstm300/model-best
AMP='{"components.lstm_tagger.model.mixed_precision": true}'
step "phase 1: tagging words/s, nlp.pipe, batch 2048, dev Docs x10 (median of 5)"
measure "tag lstm_tagger float32" tag_speed "{\"model\": \"$LSTM\", \"repeats\": 5, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true}"
measure "tag lstm_tagger mixed precision" tag_speed "{\"model\": \"$LSTM\", \"repeats\": 5, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true, \"config\": $AMP}"
measure "tag spaCy tagger" tag_speed "{\"model\": \"$WORK/spacy300/model-best\", \"repeats\": 5, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true}"
measure "tag lstm_tagger float32, profile" tag_speed "{\"model\": \"$LSTM\", \"repeats\": 1, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true, \"profile\": 25}"

step "phase 1: training words/s, nlp.update, 8,000-word batches (median of 3 x 20 updates)"
measure "train lstm_tagger float32" train_speed "{\"model\": \"$LSTM\", \"steps\": 20, \"repeats\": 3, \"batch_words\": 8000, \"gpu\": true}"
measure "train lstm_tagger mixed precision" train_speed "{\"model\": \"$LSTM\", \"steps\": 20, \"repeats\": 3, \"batch_words\": 8000, \"gpu\": true, \"config\": $AMP}"
measure "train spaCy tagger" train_speed "{\"model\": \"$WORK/spacy300/model-best\", \"steps\": 20, \"repeats\": 3, \"batch_words\": 8000, \"gpu\": true}"

step "phase 2: five trainings and the GPU tests at once, each stopped after $TRAIN_SECONDS s"
train default configs/lstm_tagger.cfg &
train default-amp configs/lstm_tagger.cfg --components.lstm_tagger.model.mixed_precision true \
  --training.max_steps 3000 &
train gpu-2000 configs/lstm_tagger_gpu.cfg --training.batcher.size 2000 --training.optimizer.learn_rate 0.003 \
  --training.max_steps 6000 --training.eval_frequency 500 --training.patience 2000 &
train gpu-4000 configs/lstm_tagger_gpu.cfg &
train gpu-8000 configs/lstm_tagger_gpu.cfg --training.batcher.size 8000 --training.optimizer.learn_rate 0.006 \
  --training.max_steps 1500 --training.eval_frequency 125 --training.patience 500 &
timeout "$TRAIN_SECONDS" $PY -m pytest -q -m gpu -p no:cacheprovider tests > "$WORK/pytest-gpu.log" 2>&1 &
wait
tail -n 5 "$WORK/pytest-gpu.log"
for name in default default-amp gpu-2000 gpu-4000 gpu-8000; do
  echo "--- $name"
  grep -E "^[0-9]+ +[0-9]+ +[0-9]+ " "$WORK/$name.log" | tail -n 3
done

step "phase 3: the float32 default run's model on a CPU-only process"
for model in "$WORK/default/model-best" "$WORK/default/model-last"; do
  [ -d "$model" ] || continue
  CUDA_VISIBLE_DEVICES= $PY -m spacy evaluate "$model" corpus/dev.spacy --gold-preproc 2>&1 | grep -E "TAG|SPEED"
  break
done

for name in lstm300 spacy300 default default-amp gpu-2000 gpu-4000 gpu-8000 pytest-gpu; do
  echo "##### $name" >> "$OUT/trainings.log"
  cat "$WORK/$name.log" >> "$OUT/trainings.log"
done
step "done"
}

main 2>&1 | tee -a "$OUT/gpu-check.log"
