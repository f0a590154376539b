"""rnnlab serve's JSON API through TestClient: every kind answers what the model's own method
answers (the CLI's path), and bad input is a 4xx with a one-line message, never a 500."""

from __future__ import annotations

import base64
import io
import json
import shutil
import warnings
import wave

import pytest
import torch

import rnnlab
from rnnlab.cli import main
from rnnlab.serve import Limits, create_app
from rnnlab.train import CheckpointError

with warnings.catch_warnings():  # starlette would rather have httpx2 (same API) than httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(runs) -> TestClient:
    app = create_app(list(runs.values()), Limits(max_body_bytes=200_000, timeout_s=30))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def models(runs) -> dict:
    """The same runs loaded directly, to compare the API's answers with their methods'."""
    return {name: rnnlab.load(path) for name, path in runs.items()}


def post(client, name: str, body) -> dict:
    r = client.post(f"/api/models/{name}/predict", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def refused(response, status: int, *fragments: str) -> None:
    """A ``status`` answer whose JSON detail is one line holding every fragment."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail
    for fragment in fragments:
        assert fragment in detail, detail


def test_models_lists_every_run_by_folder_name_with_its_kind(client, runs):
    listed = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert set(listed) == set(runs)
    assert {n: m["task"] for n, m in listed.items()} == {
        "sentiment": "classify", "shake": "lm", "sales": "forecast", "ner": "tag",
        "mt": "translate", "digits": "speech", "bach": "music", "vowels": "series",
        "vectors": "embeddings", "pics": "caption", "chars": "lm"}  # fmt: skip
    assert listed["digits"]["input"] == "wav" and listed["sentiment"]["input"] == "json"
    assert listed["pics"]["input"] == "image"
    assert listed["sentiment"]["labels"] == ["neg", "pos"]


def test_classify_gives_the_models_prediction_and_the_sentiment_after_each_token(client, models):
    text = "a good start but bad"  # the order task: the last sentiment word decides
    r = post(client, "sentiment", {"text": text})
    (p,) = models["sentiment"].predict([text])
    assert r["label"] == p.label == "neg"
    assert r["probabilities"] == pytest.approx(p.probabilities, abs=1e-6)
    assert r["tokens"] == ["a", "good", "start", "but", "bad"]
    steps = r["steps"]
    assert len(steps) == 5 and not r["steps_truncated"]
    assert steps[-1] == pytest.approx(r["probabilities"], abs=1e-6)  # the whole text
    (after_good,) = models["sentiment"].predict(["a good"])
    assert steps[1] == pytest.approx(after_good.probabilities, abs=1e-6)
    pos = r["labels"].index("pos")
    assert steps[1][pos] > 0.5 > steps[4][pos]  # the sentiment turns at "bad"


def test_classify_traces_at_most_the_limit_and_can_be_asked_not_to(runs):
    with TestClient(create_app([runs["sentiment"]], Limits(max_trace_tokens=3))) as c:
        r = post(c, "sentiment", {"text": "one two three four five good"})
        assert len(r["steps"]) == 3 and r["steps_truncated"] and len(r["tokens"]) == 6
        r = post(c, "sentiment", {"text": "good", "trace": False})
        assert r["steps"] == [] and not r["steps_truncated"] and r["label"] == "pos"


def test_lm_samples_as_the_model_does_with_seed_temperature_and_top_k(client, models):
    body = {"prompt": "the cat", "max_tokens": 6, "temperature": 0.7, "top_k": 3, "seed": 5}
    r = post(client, "shake", body)
    assert r["completion"] == models["shake"].sample("the cat", 6, 0.7, 3, 5)
    assert r["text"] == f"the cat {r['completion']}" and r == post(client, "shake", body)
    assert len(r["completion"].split()) <= 6
    assert post(client, "shake", {"prompt": "", "max_tokens": 3, "temperature": 0})["completion"]


def test_a_character_level_lm_joins_without_spaces_and_names_unknown_characters(client, models):
    body = {"prompt": "ein Hund", "max_tokens": 12, "seed": 2}
    r = post(client, "chars", body)
    assert r["completion"] == models["chars"].sample("ein Hund", 12, 1.0, None, 2)
    assert r["text"] == "ein Hund" + r["completion"] and len(r["completion"]) <= 12
    r = client.post("/api/models/chars/predict", json={"prompt": "ein Hund \u00e9"})
    refused(r, 422, "é")


def test_tag_gives_tokens_tags_and_entities(client, models):
    r = post(client, "ner", {"text": "Mohan was driving a Maruti"})
    (t,) = models["ner"].tag(["Mohan was driving a Maruti"])
    assert r["tokens"] == t.tokens and r["tags"] == t.tags
    assert [(e["type"], e["start"], e["end"], e["text"]) for e in r["entities"]] == t.entities


def test_translate_gives_the_translation_and_its_attention(client, models):
    r = post(client, "mt", {"text": "ein Hund rennt", "beam": 2, "max_len": 5})
    (t,) = models["mt"].translate(["ein Hund rennt"], 2, 5)
    assert r["translation"] == t.text and r["output_tokens"] == t.output_tokens
    att = torch.tensor(r["attention"])
    assert att.shape == (len(t.output_tokens), len(t.src_tokens))
    torch.testing.assert_close(att, t.attention.float())
    torch.testing.assert_close(att.sum(1), torch.ones(len(att)))  # a distribution per row


def test_speech_transcribes_an_uploaded_wav(client, models, wav, tmp_path):
    r = client.post("/api/models/digits/predict", files={"file": ("one.wav", wav, "audio/wav")},
                    data={"beam": "2"})  # fmt: skip
    assert r.status_code == 200, r.text
    (tmp_path / "one.wav").write_bytes(wav)
    (t,) = models["digits"].transcribe([tmp_path / "one.wav"], beam=2)
    assert r.json()["text"] == t.text and r.json()["probability"] == pytest.approx(t.probability)


def test_caption_describes_an_uploaded_image_with_attention(client, models, png, tmp_path):
    r = client.post("/api/models/pics/predict", files={"file": ("red.png", png, "image/png")},
                    data={"beam": "2", "max_len": "6"})  # fmt: skip
    assert r.status_code == 200, r.text
    (tmp_path / "red.png").write_bytes(png)
    (c,) = models["pics"].caption_files([tmp_path / "red.png"], 2, 6)
    r = r.json()
    assert r["caption"] == c.text and r["output_tokens"] == c.output_tokens
    att = torch.tensor(r["attention"])
    G = models["pics"].grid
    assert att.shape == (len(c.output_tokens), G, G)
    torch.testing.assert_close(att, c.attention.float())
    refused(client.post("/api/models/pics/predict", files={"file": ("a.png", b"not an image")}),
            422, "a.png")  # fmt: skip
    r = client.post("/api/models/pics/predict", files={"file": ("a.png", png)},
                    data={"max_len": "101"})  # fmt: skip
    refused(r, 422, "max_len")


@pytest.mark.parametrize("side", [6000, 20000])  # over our limit; over twice Pillow's too
def test_an_image_too_large_to_decode_is_422_before_it_is_decoded(client, side):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, format="PNG")  # a few KB of zeros
    assert len(buf.getvalue()) < 200_000
    r = client.post("/api/models/pics/predict", files={"file": ("big.png", buf.getvalue())})
    refused(r, 422, "big.png is too large")


def test_music_gives_a_midi_file(client, models, tmp_path):
    from rnnlab.data.music import read_midi

    r = post(client, "bach", {"steps": 8, "temperature": 0.5, "seed": 3})
    midi = base64.b64decode(r["midi_base64"])
    assert midi[:4] == b"MThd" and r["steps"] == 8 and r["steps_per_quarter"] == 2
    (tmp_path / "a.mid").write_bytes(midi)
    roll = models["bach"].sample(8, 0.5, 3)
    assert torch.equal(read_midi(tmp_path / "a.mid", 2)[: len(roll)].bool(), roll.bool())
    assert r["notes"] == int(roll.sum())


def test_forecast_continues_the_models_series_or_given_values(client, models):
    m = models["sales"]
    r = post(client, "sales", {"steps": 4})
    f = m.forecast(torch.tensor(m.history["values"], dtype=torch.float64))
    assert r["point"] == pytest.approx(f["point"][:4].tolist())
    assert r["dates"] == ["2006-01", "2006-02", "2006-03", "2006-04"]
    assert all(lo <= hi for lo, hi in zip(r["lo"], r["hi"], strict=True))
    values = [float(v) for v in range(30)]
    r = post(client, "sales", {"values": values})
    assert len(r["point"]) == 6 and r["dates"] is None
    refused(client.post("/api/models/sales/predict", json={"steps": 7}), 422, "at most 6 steps")
    refused(client.post("/api/models/sales/predict", json={"values": [1.0, 2.0]}), 422)
    infinite = b'{"values": [' + b"Infinity, " * 20 + b"1]}"  # Python's json reads these
    r = client.post("/api/models/sales/predict", content=infinite,
                    headers={"content-type": "application/json"})  # fmt: skip
    refused(r, 422, "finite")


def test_series_and_embeddings(client, models):
    rows = [[0.1, 0.2, 0.3], [0.2, 0.1, 0.0], [0.3, 0.3, 0.1]]
    r = post(client, "vowels", {"series": rows})
    (p,) = models["vowels"].predict([torch.tensor(rows).numpy()])
    assert r["label"] == p.label and r["probabilities"] == pytest.approx(p.probabilities)
    refused(client.post("/api/models/vowels/predict", json={"series": [[1.0, 2.0]]}), 422,
            "3 values")  # fmt: skip
    r = post(client, "vectors", {"words": ["king", "woman"], "minus": ["man"], "topn": 2})
    want = models["vectors"].keyed_vectors().most_similar(["king", "woman"], ["man"], topn=2)
    assert [(n["word"], pytest.approx(n["score"])) for n in r["neighbours"]] == want
    refused(client.post("/api/models/vectors/predict", json={"words": ["kingz"]}), 422, "kingz")


# ---- what is refused, and how ---------------------------------------------------------------


@pytest.mark.parametrize("name, body, fragments", [
    ("sentiment", {"text": ""}, ["text", "at least 1 character"]),
    ("sentiment", {"text": "   "}, ["blank"]),
    ("sentiment", {"text": "x" * 2001}, ["text", "at most 2000 characters"]),
    ("sentiment", {}, ["text", "Field required"]),
    ("sentiment", {"text": 3}, ["text", "string"]),
    ("sentiment", {"text": "ok", "txet": "typo"}, ["txet", "Extra inputs"]),
    ("sentiment", ["a list"], ["dictionary"]),
    ("shake", {"max_tokens": 501}, ["max_tokens", "500"]),
    ("shake", {"max_tokens": 0}, ["max_tokens"]),
    ("shake", {"temperature": -1}, ["temperature"]),
    ("ner", {"text": " "}, ["blank"]),
    ("mt", {"text": "ein Hund", "beam": 11}, ["beam"]),
    ("mt", {"text": "ein Hund", "max_len": 501}, ["max_len"]),
    ("bach", {"steps": 513}, ["steps"]),
    ("vowels", {"series": []}, ["series"]),
    ("vowels", {"series": [[1e308, 0.0, 0.0]]}, ["finite"]),
    ("vectors", {"words": []}, ["words"]),
])  # fmt: skip
def test_bad_bodies_are_422_with_a_message(client, name, body, fragments):
    refused(client.post(f"/api/models/{name}/predict", json=body), 422, *fragments)


def test_json_that_does_not_parse_is_422(client):
    r = client.post("/api/models/sentiment/predict", content=b'{"text": "go',
                    headers={"content-type": "application/json"})  # fmt: skip
    refused(r, 422, "not valid JSON")


def test_an_unknown_model_is_404_naming_the_loaded_ones(client):
    refused(client.post("/api/models/nope/predict", json={"text": "hi"}), 404, "'nope'",
            "sentiment")  # fmt: skip


def test_a_body_over_the_limit_is_413_declared_or_streamed(client):
    big = json.dumps({"text": "x" * 300_000}).encode()
    json_type = {"content-type": "application/json"}
    r = client.post("/api/models/sentiment/predict", content=big, headers=json_type)
    refused(r, 413, "200,000 bytes")

    def chunks():  # no Content-Length: sent chunked
        for _ in range(30):
            yield b"x" * 10_000

    r = client.post("/api/models/sentiment/predict", content=chunks(),
                    headers={"content-type": "application/json"})  # fmt: skip
    refused(r, 413, "limit")


def test_uploads_that_are_not_wav_are_422_naming_the_file(client, wav):
    def upload(content, name="x.wav"):
        return client.post("/api/models/digits/predict", files={"file": (name, content)})

    refused(upload(b"hello, not audio", "notes.txt"), 422, "notes.txt", "not a WAV")
    refused(upload(wav[:30]), 422, "x.wav")  # a header cut short
    refused(upload(b""), 422, "x.wav")
    slow = io.BytesIO()  # 2,000 samples at 1 Hz: 4 KB that would resample to 16M samples
    with wave.open(slow, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(1)
        w.writeframes(b"\x01\x00" * 2000)
    refused(upload(slow.getvalue(), "slow.wav"), 422, "slow.wav lasts 2,000 s", "limit of 60 s")
    refused(client.post("/api/models/digits/predict", json={"text": "hi"}), 422, "file")
    r = client.post("/api/models/digits/predict", files={"file": ("a.wav", wav)},
                    data={"beam": "99"})  # fmt: skip
    refused(r, 422, "beam")


def test_a_kind_without_an_api_is_listed_and_explained(runs, tmp_path):
    from rnnlab.models.classifier import TextClassifier

    model = rnnlab.load(runs["sentiment"])

    class Poem(TextClassifier):  # a kind rnnlab serve does not know yet
        task = "poem"

    model.__class__ = Poem
    with TestClient(create_app({"verse": model})) as c:
        (info,) = c.get("/api/models").json()["models"]
        assert info["task"] == "poem" and info["input"] == "none"
        refused(c.post("/api/models/verse/predict", json={}), 422, "no API", "'poem'")


def test_a_prediction_over_the_time_limit_is_503_and_the_server_goes_on(runs):
    app = create_app([runs["shake"]], Limits(timeout_s=0.05))
    model = app.state.served["shake"].model
    sample = model.sample

    def slow(*args):
        import time

        time.sleep(0.3)
        return sample(*args)

    model.sample = slow
    with TestClient(app) as c:
        refused(c.post("/api/models/shake/predict", json={"max_tokens": 2}), 503, "limit of 0.05 s")
        model.sample = sample
        assert c.get("/api/models").status_code == 200


def test_an_answer_that_is_not_finite_is_422_not_a_null(runs):
    from rnnlab.models.series import SeriesPrediction

    app = create_app([runs["vowels"]])
    nan = float("nan")
    app.state.served["vowels"].model.predict = lambda xs: [SeriesPrediction("slow", 0, nan,
                                                                           [nan, nan])]  # fmt: skip
    with TestClient(app) as c:
        r = c.post("/api/models/vowels/predict", json={"series": [[0.0, 0.0, 0.0]]})
        refused(r, 422, "not a finite number")


def test_openapi_schema_spells_out_each_runs_body(client):
    schema = client.get("/openapi.json").json()
    assert "/api/models/sentiment/predict" in schema["paths"]
    bodies = schema["components"]["schemas"]
    assert bodies["ClassifyRequest"]["properties"]["text"]["maxLength"] == 2000
    assert bodies["LMRequest"]["properties"]["max_tokens"]["anyOf"][0]["maximum"] == 500
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/docs.js" in docs.text and "cdn" not in docs.text
    assert client.get("/redoc").status_code == 404  # FastAPI's: fetched from a CDN
    page = client.get("/")
    assert page.status_code == 200 and "rnnlab serve" in page.text
    assert client.get("/static/app.js").status_code == 200


def test_the_server_loads_no_pickle(runs, tmp_path):
    """A run whose weights file is a pickle is refused when the server starts, never run."""
    import pickle

    bad = tmp_path / "evil"
    shutil.copytree(runs["sentiment"], bad)

    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    (bad / "model.safetensors").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError):
        create_app([bad])
    assert not (tmp_path / "pwned").exists()


def test_cli_refuses_runs_it_cannot_serve(runs, tmp_path, capsys):
    other = tmp_path / "a" / "sentiment"
    shutil.copytree(runs["sentiment"], other)
    for argv, fragment in [
        (["serve", str(runs["sentiment"]), str(other)], "two runs are named 'sentiment'"),
        (["serve", str(tmp_path / "none")], "no saved model"),
        (["serve", str(runs["sentiment"]), "--port", "70000"], "--port"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert fragment in err and len(err.strip().splitlines()) == 1, err


def test_rnnlab_serve_answers_until_it_is_stopped(runs):
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    entry = "import sys; from rnnlab.cli import main; sys.exit(main())"
    argv = [sys.executable, "-c", entry, "serve", str(runs["sentiment"]), str(runs["ner"]),
            "--port", str(port), "--max-text", "10"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "rnnlab serve did not answer within 60 s"
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/api/models/sentiment/predict",
                                    json={"text": "good"}, timeout=5)  # fmt: skip
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()["label"] == "pos"
        too_long = httpx.post(f"http://127.0.0.1:{port}/api/models/ner/predict",
                              json={"text": "x" * 11}, timeout=5)  # fmt: skip
        refused(too_long, 422, "at most 10 characters")  # --max-text
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert "sentiment: a text classifier (classify)" in out
    assert f"serving 2 runs at http://127.0.0.1:{port}/" in out


def test_limits_are_checked():
    with pytest.raises(ValueError, match="max_tokens"):
        Limits(max_tokens=0)
