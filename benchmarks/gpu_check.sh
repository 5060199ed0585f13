#!/usr/bin/env bash
# The prepared GPU check: run it once when a GPU machine is lent.
#
#   bash benchmarks/gpu_check.sh            # on the GPU machine, from the repository root
#   bash benchmarks/gpu_check.sh --dry_run  # anywhere: every section at toy sizes on the CPU
#
# Sections, each in its own process and under its own time limit, so one that
# fails or hangs does not stop the others:
#   env             TensorFlow's build and the GPUs it sees
#   mnist_epoch     MNIST MLP BiGAN seconds per epoch, XLA off and on (target <= 0.3 s on an H100)
#   conv64_<p>      the 64-px conv BiGAN step with XLA, images/s, for p = none, bfloat16, float16
#   mirrored_split  MirroredStrategy over the GPU split into two logical devices vs one device
#   ssgan_cifar10_xla_<off|on>  the SSGAN train step on random CIFAR-10-shaped images
#                   (100 + 100 per step), images/s of each network variant
# The last lines say which sections ran and which did not. Exit status: 0 all ran,
# 1 some did not, 3 TensorFlow is not importable (nothing can run).
# TensorFlow wheels can travel in .whl/ (see the device notes); they are installed first.
set -u
cd "$(dirname "$0")/.."
DRY_RUN=""
CONV_SIZE=()
SSGAN_SIZE=()
if [[ "${1:-}" == "--dry_run" ]]; then
  DRY_RUN="--dry_run"
  # XLA compiles convs slowly on CPUs.
  CONV_SIZE=(--config.run.batch_size=4 --timed_steps=1 --config.run.jit_compile=false)
  SSGAN_SIZE=(--step_batch_size=4 --rounds=1 --steps_per_round=1 --config.run.jit_compile=false)
fi
PYTHON="${PYTHON:-python3}"
LIMIT="${SECTION_LIMIT_S:-240}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

echo "gpu_check $(date -u +%Y-%m-%dT%H:%MZ) on $(hostname); git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null \
  || echo "nvidia-smi: not available"
if ! "$PYTHON" -c "import tensorflow" >/dev/null 2>&1 && compgen -G ".whl/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="/tmp/site:$PYTHONPATH"
fi
if ! "$PYTHON" -c "import tensorflow" >/dev/null 2>&1; then
  echo "TensorFlow is not importable with $PYTHON ($("$PYTHON" --version 2>&1)):"
  echo "did not run: env mnist_epoch conv64_none conv64_bfloat16 conv64_float16 mirrored_split" \
    "ssgan_cifar10_xla_off ssgan_cifar10_xla_on"
  exit 3
fi

ran=()
failed=()
section() {
  local name="$1"
  shift
  echo "== $name"
  timeout "$LIMIT" "$@"
  local code=$?
  if [[ $code -eq 0 ]]; then ran+=("$name"); else failed+=("$name(exit $code)"); fi
}
section env "$PYTHON" benchmarks/gpu_check.py --section=env $DRY_RUN
section mnist_epoch "$PYTHON" benchmarks/gpu_check.py --section=mnist_epoch $DRY_RUN
for precision in none bfloat16 float16; do
  section "conv64_$precision" "$PYTHON" benchmarks/bench_conv.py --parts=step \
    --config.run.jit_compile=true --config.run.mixed_precision="$precision" --timed_steps=20 \
    "${CONV_SIZE[@]}"
done
section mirrored_split "$PYTHON" benchmarks/gpu_check.py --section=mirrored_split $DRY_RUN
for xla in off on; do
  jit=--config.run.jit_compile=false
  [[ $xla == on ]] && jit=--config.run.jit_compile=true
  section "ssgan_cifar10_xla_$xla" "$PYTHON" benchmarks/bench_ssgan.py --measure=steps \
    --step_shape=cifar10 --rounds=3 --steps_per_round=20 "$jit" "${SSGAN_SIZE[@]}"
done
echo "ran: ${ran[*]:-none}"
echo "did not run: ${failed[*]:-none}"
[[ ${#failed[@]} -eq 0 ]]
