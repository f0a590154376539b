"""Fuzzing rnnlab serve's API with hypothesis: JSON bodies of any shape (the kinds' own field names
with values of every JSON type, and keys nobody expects), raw bodies that are not JSON, and
uploads that are not WAVs or images, sent to every loaded run. The only answers allowed are 200,
a 4xx whose detail is one line, or a 503 (the time limit); never a 500.

Derandomized, ~150 cases per test; RNNLAB_FUZZ_EXAMPLES=N runs N fresh ones each.
"""

from __future__ import annotations

import os
import warnings
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.serve import Limits, create_app

with warnings.catch_warnings():  # starlette would rather have httpx2 (same API) than httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

_N = int(os.environ.get("RNNLAB_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_N or 150, derandomize=not _N, deadline=None,
                suppress_health_check=list(HealthCheck))  # fmt: skip

# every field some kind's schema reads, so that bodies reach the handlers, not only the schema
FIELDS = ["text", "prompt", "max_tokens", "temperature", "top_k", "seed", "beam", "steps",
          "values", "series", "words", "minus", "topn", "trace", "samples", "prime", "alpha",
          "max_len", "start"]  # fmt: skip
SMALL_INTS = st.integers(-3, 40)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
SCALARS = st.none() | st.booleans() | SMALL_INTS | st.integers() | FLOATS | st.text(max_size=40)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=6)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=30)  # fmt: skip
# a field's value: mostly plausible (short text, small numbers, short lists of numbers), else any
VALUE = (st.text(max_size=60) | SMALL_INTS | st.floats(-5, 5)
         | st.lists(st.floats(-1e3, 1e3), max_size=30)
         | st.lists(st.lists(st.floats(-10, 10), min_size=1, max_size=3), max_size=12)
         | st.lists(st.text(max_size=8), max_size=4) | JSON)  # fmt: skip
BODY = st.dictionaries(st.sampled_from(FIELDS), VALUE, max_size=5) | JSON


@pytest.fixture(scope="module")
def fuzz_client(runs):
    app = create_app(list(runs.values()), Limits(max_body_bytes=200_000, timeout_s=30))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, sorted(runs)


def _allowed(response) -> None:
    status = response.status_code
    assert status == 200 or 400 <= status < 500 or status == 503, (status, response.text[:500])
    if status != 200:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail, detail


@FUZZ
@given(data=st.data())
def test_any_json_body_gets_an_answer_or_a_4xx(fuzz_client, data):
    client, names = fuzz_client
    name = data.draw(st.sampled_from(names))
    body = data.draw(BODY)
    _allowed(client.post(f"/api/models/{name}/predict", json=body))


@FUZZ
@given(data=st.data())
def test_raw_bodies_and_odd_paths_get_a_4xx(fuzz_client, data):
    client, names = fuzz_client
    name = data.draw(st.sampled_from(names) | st.text(max_size=12))
    raw = data.draw(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    ctype = data.draw(st.sampled_from(["application/json", "text/plain", "multipart/form-data",
                                       "application/octet-stream"]))  # fmt: skip
    path = f"/api/models/{quote(name, safe='')}/predict"
    _allowed(client.post(path, content=raw, headers={"content-type": ctype}))


@FUZZ
@given(data=st.data())
def test_uploads_that_are_not_wavs_or_images_get_a_4xx(fuzz_client, data):
    client, _ = fuzz_client
    name = data.draw(st.sampled_from(["digits", "pics"]))
    heads = [b"", b"RIFF", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]
    head = data.draw(st.sampled_from([*heads, b"GIF89a"]))
    blob = head + data.draw(st.binary(max_size=400))
    fields = data.draw(st.dictionaries(st.sampled_from(["beam", "max_len", "alpha"]),
                                       st.text(max_size=6), max_size=2))  # fmt: skip
    _allowed(client.post(f"/api/models/{name}/predict", files={"file": ("x.bin", blob)},
                         data=fields))  # fmt: skip
