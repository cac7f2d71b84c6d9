"""The JSON of POST /api/ask: what json.dumps would write, numpy numbers included."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.app import encode_reply


def test_the_reply_is_the_json_of_the_dict(client) -> None:
    r = client.post("/api/ask", json={"question": "What is Django?"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["answered"] is True
    reply = {"a": 'æøå ✓ \u2028 "q" \\', "n": [1, 2.5, None, True], "d": {"x": ""}}
    assert json.loads(encode_reply(reply)) == reply
    assert encode_reply(reply).decode("utf-8") == json.dumps(
        reply, ensure_ascii=False, separators=(",", ":")
    )


def test_numpy_numbers_are_written_as_numbers() -> None:
    reply = {"score": np.float64(0.25), "f32": np.float32(0.5), "rank": np.int64(3)}
    assert json.loads(encode_reply(reply)) == {"score": 0.25, "f32": 0.5, "rank": 3}
    with pytest.raises(TypeError):
        encode_reply({"x": object()})
