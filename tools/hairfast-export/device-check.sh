#!/usr/bin/env bash
# Issue #12's GPU numbers in one script (run from the repository root on a CUDA host with torch 2.x, onnx, node and
# this project built with the CUDA provider installed, e.g. unpacked by ../shared/device scripts):
#   export    every graph with random weights (traced on the CPU), the merged `swap` composite, and the fp16
#             variants of all of them (to_fp16.py, --check; swap_fp16 with its weights in swap_fp16.onnx.data);
#   compare   bench/compare.bench.ts: the official HairFast.swap warm on CUDA (same seeded weights) vs ours fp32 and
#             fp16 on the CUDA EP, same inputs: p50/p95, throughput at batch 1/4/8/16, peak GPU memory, ratios, goals;
#   profile   bench/profile.ts with onnxruntime profiling on the CUDA EP, fp32 and fp16 (kernels, Memcpy, gaps);
#   frontend  bench/frontend.bench.ts with the detector and face mesh on cpu and on cuda (FACE_*_EP advice);
#   parity    (not in the default list) parity.py --e2e --swap --swap-fp16: swap vs the split chain, swap and
#             swap_fp16 vs the official HairFast.swap, batch-2 rows vs batch 1 (CPU work; docs/parity.md's rows);
#   report    the printed outputs into $REPORT (docs/gpu-results.md: the block between the device-check markers is
#             replaced, the rest kept) and a copy in $OUT.
# Usage: OUT=/tmp/hf-report tools/hairfast-export/device-check.sh /path/to/HairFastGAN [phase ...]
#   phases: export compare profile frontend report (default: all five, in that order). Split them over calls that
#   follow each other at once when one call's limit is short (state stays in $MODELS and $OUT while the machine is warm).
# CPU mode (to check the script without a GPU): DEVICE_CHECK_CPU=1 — CPU EP, no nvidia-smi, the export in
#   $EXPORT_DIR if it has one (else the contract graphs in models/), one run per figure, official on the CPU
#   (OFFICIAL=0 skips it), report to $OUT/gpu-results.md only (never docs/).
set -uo pipefail
SRC=${1:?usage: device-check.sh /path/to/HairFastGAN [export|compare|profile|frontend|report ...]}
shift
phases=${*:-export compare profile frontend report}
OUT=${OUT:-/tmp/hf-report}
MODELS=${EXPORT_DIR:-/tmp/hfm}
CPU=${DEVICE_CHECK_CPU:-0}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT" "$MODELS"
export PYTHONWARNINGS=ignore PYTHONUNBUFFERED=1 ORT_DISABLE_TELEMETRY=1
LOG="$OUT/device-check.log"
note() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$LOG"; }
run() { note "$*"; "$@" 2>&1 | tee -a "$LOG"; return "${PIPESTATUS[0]}"; }

if [ "$CPU" = 1 ]; then
  EP=cpu; OFFICIAL_DEVICE=cpu; REPORT=${REPORT:-$OUT/gpu-results.md}
  export BENCH_RUNS=${BENCH_RUNS:-1} BENCH_WARMUP=${BENCH_WARMUP:-1} BENCH_BATCHES=${BENCH_BATCHES:-1,2} BENCH_BATCH_ROUNDS=${BENCH_BATCH_ROUNDS:-1}
  export OFFICIAL_RUNS=${OFFICIAL_RUNS:-1} OFFICIAL_WARMUP=${OFFICIAL_WARMUP:-0} PRECISIONS=${PRECISIONS:-fp32}
  [ -f "$MODELS/hairfast/manifest.json" ] || MODELS=models
else
  EP=cuda; OFFICIAL_DEVICE=cuda; REPORT=${REPORT:-docs/gpu-results.md}
  export BENCH_RUNS=${BENCH_RUNS:-20} BENCH_WARMUP=${BENCH_WARMUP:-3} BENCH_BATCHES=${BENCH_BATCHES:-1,4,8,16} BENCH_BATCH_ROUNDS=${BENCH_BATCH_ROUNDS:-3}
  export OFFICIAL_RUNS=${OFFICIAL_RUNS:-10} OFFICIAL_WARMUP=${OFFICIAL_WARMUP:-2} PRECISIONS=${PRECISIONS:-fp32,fp16}
  run "$PYTHON" -c "import torch, onnx; print('torch', torch.__version__, 'onnx', onnx.__version__, torch.cuda.get_device_name(0))" || exit 2
  run nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || exit 2
fi
[ "$MODELS" = models ] || { [ -f "$MODELS/manifest.json" ] || cp -r models/face models/manifest.json "$MODELS/"; }
node_ts() { node --import tsx "$@"; }

for phase in $phases; do
  case "$phase" in
    export)
      if [ "$MODELS" = models ]; then note "export: skipped (CPU mode without an export: contract graphs)"; continue; fi
      if [ -f "$MODELS/hairfast/swap_fp16.onnx.data" ]; then note "export: $MODELS/hairfast already has every graph"; continue; fi
      # --resume: graphs a cut-off earlier call finished are kept
      run "$PYTHON" tools/hairfast-export/export.py --src "$SRC" --random-weights --seed 0 --device cpu --composites --fp16 \
        --check --resume --keep-going --out "$MODELS/hairfast" --report "$OUT/export.jsonl" | grep -v -i "warn\|^  " | cut -c1-400
      ;;
    parity)
      run "$PYTHON" tools/hairfast-export/parity.py --src "$SRC" --models "$MODELS/hairfast" --seed 0 --e2e --swap --swap-fp16 \
        --mode "${PARITY_MODES:-both,same}" --json "$OUT/parity.jsonl" | grep -v -i "warn\|^  " | cut -c1-600
      ;;
    compare)
      official=("HAIRFAST_SRC=$SRC"); [ "${OFFICIAL:-1}" = 0 ] && official=()
      run env HAIR_EP=$EP MODELS_DIR="$MODELS" BENCH_PRECISIONS="$PRECISIONS" OFFICIAL_DEVICE=$OFFICIAL_DEVICE PYTHON="$PYTHON" \
        BENCH_JSON="$OUT/compare.json" "${official[@]}" node --import tsx bench/compare.bench.ts > "$OUT/compare.txt"
      ;;
    profile)
      : > "$OUT/profile.txt"
      for precision in ${PRECISIONS//,/ }; do
        run env HAIR_EP=$EP HAIR_PRECISION=$precision MODELS_DIR="$MODELS" PROFILE_DIR="/tmp/hf-profile-$precision" \
          BENCH_RUNS=$([ "$CPU" = 1 ] && echo 1 || echo 5) node --import tsx bench/profile.ts >> "$OUT/profile.txt"
      done
      tar -czf "$OUT/profiles.tar.gz" -C /tmp $(cd /tmp && ls -d hf-profile-* 2>/dev/null) 2>/dev/null || true
      ;;
    frontend)
      eps=$([ "$CPU" = 1 ] && echo cpu || echo cpu,cuda)
      run env BENCH_STAGE_EPS=$eps BENCH_RUNS=$([ "$CPU" = 1 ] && echo 3 || echo 30) node --import tsx bench/frontend.bench.ts > "$OUT/frontend.txt"
      ;;
    report)
      block="$OUT/gpu-results-block.md"
      {
        echo "<!-- device-check:begin (written by tools/hairfast-export/device-check.sh; do not edit by hand) -->"
        if [ "$CPU" = 1 ]; then
          echo "## CPU dry run of the device check ($(date -u +%Y-%m-%d))"
          echo "DEVICE_CHECK_CPU=1: CPU EP, graphs in \`$MODELS\`, one run per figure; checks the script, not a GPU result."
        else
          echo "## Issue #12 on $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1) ($(date -u +%Y-%m-%d))"
          echo "Driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1), $("$PYTHON" -c 'import torch; print("torch", torch.__version__)'), node $(node --version), $(nproc) CPU cores."
        fi
        echo
        echo "Command: \`OUT=$OUT tools/hairfast-export/device-check.sh <HairFastGAN checkout> $phases\` (random weights, seed 0)."
        for part in compare:"Official vs ours (bench/compare.bench.ts)" profile:"onnxruntime profile (bench/profile.ts)" frontend:"Face front-end per stage and provider (bench/frontend.bench.ts)" parity:"swap parity (parity.py --e2e --swap --swap-fp16, JSON rows)"; do
          file="$OUT/${part%%:*}.txt"; [ "${part%%:*}" = parity ] && file="$OUT/parity.jsonl"
          echo; echo "### ${part#*:}"
          if [ -s "$file" ]; then echo '```'; cat "$file"; echo '```'; else echo "not run (no $file)"; fi
        done
        echo "<!-- device-check:end -->"
      } > "$block"
      if [ -f "$REPORT" ] && grep -q '<!-- device-check:begin' "$REPORT"; then
        awk -v block="$block" '/<!-- device-check:begin/ { while ((getline line < block) > 0) print line; skip = 1; next }
          /<!-- device-check:end -->/ { skip = 0; next } !skip' "$REPORT" > "$REPORT.tmp" && mv "$REPORT.tmp" "$REPORT"
      else
        { [ -f "$REPORT" ] && cat "$REPORT" && echo; cat "$block"; } > "$REPORT.tmp" && mv "$REPORT.tmp" "$REPORT"
      fi
      [ "$REPORT" = "$OUT/gpu-results.md" ] || cp "$REPORT" "$OUT/gpu-results.md"
      rm -f "$block"
      note "report: $REPORT (and $OUT/gpu-results.md)"
      ;;
    *) echo "unknown phase: $phase (export compare profile frontend parity report)" >&2; exit 2 ;;
  esac
done
