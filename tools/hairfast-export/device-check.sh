#!/usr/bin/env bash
# GPU check of the exporter (torch 2.x, CUDA): exports every graph in fp32 and fp16 with random weights, checks each
# fp32 file in onnxruntime (CPU) against torch, and records per-graph GPU time and peak memory in fp32 and fp16.
# Usage (repo root, on a CUDA host with torch, onnx, onnxruntime and a HairFastGAN checkout):
#   OUT=/tmp/hf-report tools/hairfast-export/device-check.sh /path/to/HairFastGAN
set -u
SRC=${1:?usage: device-check.sh /path/to/HairFastGAN}
OUT=${OUT:-/tmp/hf-report}
mkdir -p "$OUT"
python3 -c "import torch, onnx, onnxruntime; print('torch', torch.__version__, 'onnx', onnx.__version__, 'ort', onnxruntime.__version__, torch.cuda.get_device_name(0))"
export PYTHONWARNINGS=ignore
python3 tools/hairfast-export/export.py --src "$SRC" --random-weights --seed 0 \
  --device cuda --fp16 --check --bench-gpu --keep-going --out "${EXPORT_DIR:-/tmp/hf}" --report "$OUT/rows.jsonl" \
  --only align_f,blend_masks,color_mod,ctrl_hair_enc,ctrl_face_enc,ctrl_decode,clip_visual,sean_encode,bisenet,g_f64_to_img,g_f32_to_img,rotate,refine,e4e,embed,sean_decode \
  2>&1 | grep -v -i "warn\|^  "
cp "${EXPORT_DIR:-/tmp/hf}/manifest.json" "$OUT/manifest.json"
