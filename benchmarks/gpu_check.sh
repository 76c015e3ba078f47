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
# Every line of a training log starts with the Unix time it was printed and the run's name, so
# time-to-accuracy can be read off. Output goes to $OUT (default gpu-check/): gpu-check.log,
# trainings.log (written as the runs go, so a call stopped early keeps it), speed.jsonl.
# TRAIN_SPEED=0 skips the training words/s; RUNS names the phase-2 runs (default: all five; a single
# run has the GPU to itself, so its times are clean); CPU_CHECK=0 skips phase 3; TAG_AMP=0 skips the
# mixed-precision tagging; GPU_TESTS="EXPR" runs only the GPU tests that `pytest -k EXPR` selects,
# alone, before phase 1.
set -uo pipefail
OUT=${OUT:-gpu-check}
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
TRAIN_SECONDS=${TRAIN_SECONDS:-300}
TRAIN_SPEED=${TRAIN_SPEED:-1}
RUNS=${RUNS:-default default-amp gpu-2000 gpu-4000 gpu-8000}
CPU_CHECK=${CPU_CHECK:-1}
TAG_AMP=${TAG_AMP:-1}
GPU_TESTS=${GPU_TESTS:-}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

step() { echo; echo "=== $* ($(date +%T))"; }
stamp() { while IFS= read -r line; do printf '%(%s)T %s %s\n' -1 "$1" "$line"; done; }
train() {  # $1: run name, $2: config, then overrides; the log goes to $OUT/trainings.log
  local name=$1 config=$2
  shift 2
  echo "spacy train $config --gpu-id 0 $*" | stamp "$name" >> "$OUT/trainings.log"
  timeout "$TRAIN_SECONDS" $PY -m spacy train "$config" --gpu-id 0 --output "$WORK/$name" "$@" 2>&1 \
    | stamp "$name" >> "$OUT/trainings.log"
  echo "end" | stamp "$name" >> "$OUT/trainings.log"
}
scores() {  # $1: run name; its last $2 evaluation lines
  grep -E "^[0-9]+ $1 +[0-9]+ +[0-9]+ " "$OUT/trainings.log" | tail -n "$2"
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

if [ -n "$GPU_TESTS" ]; then
  step "GPU tests: -k '$GPU_TESTS'"
  $PY -m pytest -q -rs -m gpu -k "$GPU_TESTS" -p no:cacheprovider tests 2>&1 | tail -n 15
fi

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
scores lstm300 1
scores spacy300 1
if [ ! -d "$WORK/lstm300/model-best" ]; then
  grep " lstm300 " "$OUT/trainings.log"
  echo "lstm_tagger did not train on the GPU: stopping"
  exit 1
fi

LSTM=$WORK/lstm300/model-best
AMP='{"components.lstm_tagger.model.mixed_precision": true}'
step "phase 1: tagging words/s, nlp.pipe, batch 2048, dev Docs x10 (median of 5)"
measure "tag lstm_tagger float32" tag_speed "{\"model\": \"$LSTM\", \"repeats\": 5, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true}"
[ "$TAG_AMP" = 1 ] && measure "tag lstm_tagger mixed precision" tag_speed "{\"model\": \"$LSTM\", \"repeats\": 5, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true, \"config\": $AMP}"
measure "tag spaCy tagger" tag_speed "{\"model\": \"$WORK/spacy300/model-best\", \"repeats\": 5, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true}"
measure "tag lstm_tagger float32, profile" tag_speed "{\"model\": \"$LSTM\", \"repeats\": 1, \"batch_size\": 2048, \"passes\": 10, \"gpu\": true, \"profile\": 25}"

if [ "$TRAIN_SPEED" = 1 ]; then
  step "phase 1: training words/s, nlp.update, 8,000-word batches (median of 3 x 20 updates)"
  measure "train lstm_tagger float32" train_speed "{\"model\": \"$LSTM\", \"steps\": 20, \"repeats\": 3, \"batch_words\": 8000, \"gpu\": true}"
  measure "train lstm_tagger mixed precision" train_speed "{\"model\": \"$LSTM\", \"steps\": 20, \"repeats\": 3, \"batch_words\": 8000, \"gpu\": true, \"config\": $AMP}"
  measure "train spaCy tagger" train_speed "{\"model\": \"$WORK/spacy300/model-best\", \"steps\": 20, \"repeats\": 3, \"batch_words\": 8000, \"gpu\": true}"
fi

step "phase 2: $RUNS, at once, and all the GPU tests unless GPU_TESTS is set; each stopped after $TRAIN_SECONDS s"
for name in $RUNS; do
  case $name in
    default) train default configs/lstm_tagger.cfg & ;;
    default-amp) train default-amp configs/lstm_tagger.cfg --components.lstm_tagger.model.mixed_precision true \
      --training.max_steps 3000 & ;;
    gpu-2000) train gpu-2000 configs/lstm_tagger_gpu.cfg --training.batcher.size 2000 \
      --training.optimizer.learn_rate 0.003 --training.max_steps 6000 --training.eval_frequency 500 \
      --training.patience 2000 & ;;
    gpu-4000) train gpu-4000 configs/lstm_tagger_gpu.cfg --training.batcher.size 4000 \
      --training.optimizer.learn_rate 0.004 --training.max_steps 3000 --training.eval_frequency 250 \
      --training.patience 1000 & ;;
    gpu-8000) train gpu-8000 configs/lstm_tagger_gpu.cfg & ;;
    *) echo "unknown run: $name" ;;
  esac
done
if [ -z "$GPU_TESTS" ]; then
  timeout "$TRAIN_SECONDS" $PY -m pytest -q -rs -m gpu -p no:cacheprovider tests 2>&1 | tail -n 15 > "$WORK/pytest-gpu.log" &
fi
wait
[ -f "$WORK/pytest-gpu.log" ] && cat "$WORK/pytest-gpu.log"
for name in $RUNS; do
  scores "$name" 3
done

if [ "$CPU_CHECK" = 1 ]; then
  step "phase 3: the float32 default run's model on a CPU-only process"
  for model in "$WORK/default/model-best" "$WORK/default/model-last"; do
    [ -d "$model" ] || continue
    CUDA_VISIBLE_DEVICES= $PY -m spacy evaluate "$model" corpus/dev.spacy --gold-preproc 2>&1 | grep -E "TAG|SPEED"
    break
  done
fi

step "done"
}

main 2>&1 | tee -a "$OUT/gpu-check.log"
