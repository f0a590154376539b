"""Tiny saved runs of every kind for the serve tests, made once per session.

The classifier and the language model are trained here through ``rnnlab train`` (the browser
test reads a prediction that must be right: the order task's label is the sentiment word that
comes last); the others are saved untrained, enough for the shape of their answers.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from order_task import order_task
from rnnlab import saved
from rnnlab.cli import main
from rnnlab.train import save_weights

LM_TEXT = "the cat sat on the mat .\nthe dog sat on the log .\n" * 40


def _cli(argv: list[str]) -> None:
    """``rnnlab ARGV`` in process, its output swallowed; fails the test on a non-zero exit."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    assert code == 0, err.getvalue()


def _save(model, out: Path) -> Path:
    saved.save_config(model, out)
    save_weights(model, out / "model.safetensors")
    return out


def _untrained(root: Path) -> dict[str, Path]:
    """Saved untrained models: tagger, translator, speech (CTC), music, series, embeddings,
    captioner, a character-level language model."""
    from rnnlab.models.caption import CaptionConfig, Captioner
    from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
    from rnnlab.models.music import MusicConfig, MusicModel
    from rnnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
    from rnnlab.models.series import SeriesClassifier, SeriesConfig
    from rnnlab.models.speech import SpeechConfig, SpeechModel
    from rnnlab.models.tagger import SequenceTagger, TaggerConfig
    from rnnlab.models.word2vec import Word2Vec, Word2VecConfig
    from rnnlab.text import Vocab

    sentences = ["Mohan was driving a Maruti in Delhi", "ein Hund rennt durch das Gras"]
    words = Vocab.build([s.split() for s in sentences])
    chars = Vocab.build([list("\n".join(sentences))])
    en = Vocab.build([["a", "dog", "runs", "through", "the", "grass"]])
    torch.manual_seed(0)
    models = {
        "ner": SequenceTagger(TaggerConfig(len(words), 5, num_chars=len(chars), embed_dim=8,
                                           hidden_size=8, char_dim=4, char_hidden=4), words,
                              ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], chars, "IOB2"),
        "mt": Seq2Seq(Seq2SeqConfig(len(words), len(en), embed_dim=8, hidden_size=8), words, en,
                      ("de", "en")),
        "digits": SpeechModel(SpeechConfig(11, objective="ctc", hidden_size=8, num_layers=1),
                              [str(d) for d in range(10)]),
        "bach": MusicModel(MusicConfig(hidden_size=8), steps_per_quarter=2),
        "vowels": SeriesClassifier(SeriesConfig(2, 3, hidden_size=8, num_layers=1),
                                   ["slow", "fast"]),
        "pics": Captioner(CaptionConfig(len(en), image_size=16, channels=(4, 8), depth=1,
                                        embed_dim=8, hidden_size=8, attn_size=8), en),
        "chars": LanguageModel(LMConfig(len(chars), embed_dim=8, hidden_size=8, num_layers=1),
                               chars, TextFormat("char", "\n", "\n")),
        "vectors": Word2Vec(Word2VecConfig(dim=8), ["king", "queen", "man", "woman", "film"],
                            [5, 4, 3, 2, 1]),
    }  # fmt: skip
    return {name: _save(model.eval(), root / name) for name, model in models.items()}


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Run folders by name: sentiment (classify), shake (lm), ner, mt, digits, bach, sales
    (forecast), vowels, vectors, pics (caption), chars (a character-level lm)."""
    root = tmp_path_factory.mktemp("serve_runs")
    train = root / "train.tsv"
    train.write_text("".join(f"{t}\t{y}\n" for t, y in order_task(300, seed=1, max_filler=5)))
    _cli(["train", "classify", "--data", train, "--out", root / "sentiment", "--epochs", "3",
          "--lr", "0.02", "--hidden", "16", "--embed", "16", "--dropout", "0.1", "--seed", "0",
          "--no-progress"])  # fmt: skip
    text = root / "cats.txt"
    text.write_text(LM_TEXT)
    _cli(["train", "lm", "--data", text, "--level", "word", "--out", root / "shake", "--epochs",
          "2", "--hidden", "16", "--layers", "1", "--bptt", "10", "--batch-size", "4",
          "--lr", "0.02", "--no-progress"])  # fmt: skip
    sales = root / "sales.csv"
    values = [20 + i * 0.2 + 5 * math.sin(i * math.pi / 6) for i in range(72)]
    rows = [f"{2000 + i // 12}-{i % 12 + 1:02d},{v:.3f}" for i, v in enumerate(values)]
    sales.write_text("month,sales\n" + "\n".join(rows) + "\n")
    _cli(["train", "forecast", "--data", sales, "--horizon", "6", "--window", "12", "--hidden",
          "8", "--epochs", "1", "--no-progress", "--out", root / "sales"])  # fmt: skip
    return {"sentiment": root / "sentiment", "shake": root / "shake", "sales": root / "sales",
            **_untrained(root)}  # fmt: skip


@pytest.fixture(scope="session")
def wav() -> bytes:
    """A 16-bit mono WAV file of half a second of a chirp, at 8 kHz."""
    import wave

    rate = 8000
    t = np.arange(rate // 2) / rate
    x = (0.5 * np.sin(2 * np.pi * (400 + 800 * t) * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.tobytes())
    return buf.getvalue()


@pytest.fixture(scope="session")
def server(runs) -> str:
    """Every run served by uvicorn on a free loopback port, in a thread: its base URL. The
    server stops at the end of the session."""
    import socket
    import threading
    import time

    import uvicorn

    from rnnlab.serve import Limits, create_app

    with socket.socket() as s:  # a free port (the OS picks; released for uvicorn just after)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(list(runs.values()), Limits(timeout_s=60))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def png() -> bytes:
    """A 20 x 12 PNG image: a red square on blue."""
    from PIL import Image

    image = Image.new("RGB", (20, 12), (20, 40, 200))
    image.paste((220, 30, 30), (4, 2, 12, 10))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
