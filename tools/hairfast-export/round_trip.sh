#!/usr/bin/env bash
# The full round trip of issue #10 (docs/parity.md "Round trip"), from the repository root after `npm run build`:
#   1. official_tree.py: a full pretrained_models/ tree (+ CLIP, torch hub resnet18) in the official file formats from
#      seeded random-init official modules (resumes: complete files are skipped);
#   2. `hairstyler models import` of that tree into $WORK/models (resumes: graphs already exported into the import's
#      staging directory are kept; a complete installation from this tree is not imported again);
#   3. parity.py --e2e --ts --tree for each mode: the official HairFast, built by its own constructor and loaders from
#      the same tree, against `hairstyler transfer --aligned` on the imported graphs (rows appended to $WORK/e2e.jsonl;
#      a mode already there is skipped).
# Usage: tools/hairfast-export/round_trip.sh /path/to/HairFastGAN [WORK] [MODES]   (heavy: run under the heavy lock)
set -euo pipefail
SRC=${1:?usage: round_trip.sh /path/to/HairFastGAN [WORK] [MODES]}
WORK=${2:-/tmp/hairfast-round-trip}
MODES=${3:-both shape color same}
PY=${PYTHON:-/usr/bin/python3}
SEED=${SEED:-0}
export PYTHONWARNINGS=ignore ORT_DISABLE_TELEMETRY=1
mkdir -p "$WORK/models"
stamp() { date -u +%H:%M:%S; }

echo "$(stamp) round trip: tree"
/usr/bin/time -f '%e s tree' "$PY" tools/hairfast-export/official_tree.py --src "$SRC" --out "$WORK/tree" --seed "$SEED" \
  | grep -v '"event": "skip"'
du -sbL "$WORK/tree" | awk '{printf "tree bytes %d\n", $1}'

installed() {
  "$PY" - "$WORK/models/hairfast/manifest.json" <<'EOF'
import json, sys
try:
    m = json.load(open(sys.argv[1]))['models']
except FileNotFoundError:
    sys.exit(1)
sys.exit(0 if len(m) >= 16 and all(e['kind'] == 'random' and 'official checkpoint formats' in e.get('notes', '') for e in m.values()) else 1)
EOF
}
if [ ! -f "$WORK/models/manifest.json" ]; then cp models/manifest.json "$WORK/models/" && cp -r models/face "$WORK/models/"; fi
if installed; then
  echo "$(stamp) round trip: import already complete in $WORK/models/hairfast"
else
  echo "$(stamp) round trip: import"
  MODELS_DIR="$WORK/models" PRESET_CACHE_DIR="$WORK/preset-cache" HAIR_EP=cpu \
    /usr/bin/time -f '%e s import' node bin/hairstyler.js models import --src "$SRC" \
    --checkpoints "$WORK/tree/pretrained_models" --clip "$WORK/tree/clip/ViT-B-32.pt" ${FP16:+--fp16} | tee "$WORK/import.log"
fi

todo=""
for mode in $MODES; do
  if [ -f "$WORK/e2e.jsonl" ] && grep -q "\"mode\": \"$mode\"" "$WORK/e2e.jsonl"; then
    echo "$(stamp) round trip: e2e $mode already measured"
  else
    todo="${todo:+$todo,}$mode"
  fi
done
if [ -n "$todo" ]; then
  echo "$(stamp) round trip: e2e $todo (one official HairFast construction, then each mode)"
  "$PY" tools/hairfast-export/parity.py --src "$SRC" --models "$WORK/models/hairfast" --tree "$WORK/tree" --seed "$SEED" \
    --e2e --ts --mode "$todo" --json "$WORK/e2e.jsonl" | grep '"end_to_end"\|official_constructed' | cut -c1-600
fi
echo "$(stamp) round trip: done ($WORK/e2e.jsonl)"
