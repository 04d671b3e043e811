#!/usr/bin/env bash
# GPU check of the exported graphs in both precisions (run from the repository root on a CUDA host with torch 2.x,
# onnx, node and this project built with the CUDA provider installed, e.g. unpacked by ../shared/device scripts):
#   1. export every graph with random weights (traced on the CPU) and make the fp16 variants (to_fp16.py, --check);
#   2. run bench/hairfast.bench.ts on the CUDA EP with HAIR_PRECISION=fp32 and =fp16, sampling the GPU memory in use
#      (nvidia-smi) while each runs: the peak is what the worker needs with every session loaded.
# Usage: OUT=/tmp/hf-report tools/hairfast-export/device-check.sh /path/to/HairFastGAN
set -u
SRC=${1:?usage: device-check.sh /path/to/HairFastGAN}
OUT=${OUT:-/tmp/hf-report}
MODELS=${EXPORT_DIR:-/tmp/hfm}
mkdir -p "$OUT" "$MODELS"
export PYTHONWARNINGS=ignore
python3 -c "import torch, onnx; print('torch', torch.__version__, 'onnx', onnx.__version__, torch.cuda.get_device_name(0))"
if [ ! -f "$MODELS/hairfast/refine_fp16.onnx" ]; then
  python3 tools/hairfast-export/export.py --src "$SRC" --random-weights --seed 0 --device cpu --fp16 --check \
    --keep-going --out "$MODELS/hairfast" --report "$OUT/export.jsonl" 2>&1 | grep -v -i "warn\|^  " | cut -c1-400
fi
cp "$MODELS/hairfast/manifest.json" "$OUT/manifest.json"
for precision in fp32 fp16; do
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/gpu-mem-$precision.txt" &
  sampler=$!
  HAIR_EP=cuda HAIR_PRECISION=$precision MODELS_DIR="$MODELS" BENCH_RUNS=${BENCH_RUNS:-5} BENCH_WARMUP=1 \
    BENCH_MODES=both BENCH_12MP=0 node --import tsx bench/hairfast.bench.ts 2>&1 | tee "$OUT/bench-$precision.txt" | tail -25
  kill "$sampler"
  echo "peak GPU memory used with HAIR_PRECISION=$precision: $(sort -n "$OUT/gpu-mem-$precision.txt" | tail -1) MiB"
done
