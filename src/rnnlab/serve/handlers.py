"""One prediction per model kind, through the same model methods the ``rnnlab`` command calls
(``predict``, ``sample``, ``tag``, ``translate``, ``transcribe``, ``forecast`` ...): nothing here
re-implements a model; it only turns a request into their arguments and their results into JSON.

Each handler is ``(model, request, limits) -> dict`` (the kind's response schema). A value the
model cannot use raises :class:`~rnnlab.errors.InputError` (or the model's ``ValueError``), which
the app answers 422 with the message.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from rnnlab import audio
from rnnlab.errors import InputError
from rnnlab.serve.limits import Limits
from rnnlab.text import tokenize

__all__ = ["HANDLERS", "caption", "speech"]


def classify(model, req, limits: Limits) -> dict:
    """The class of ``req.text`` and, with ``req.trace``, the probabilities after each prefix of
    its tokens: ``model.predict`` on ``tokens[: i + 1]`` joined as the model's level joins them
    (tokenising is stable, so each prefix reads as the model reads the text)."""
    if not req.text.strip():
        raise InputError("nothing to classify: the text is blank")
    (p,) = model.predict([req.text])
    tokens = tokenize(req.text, model.level)
    steps: list[list[float] | None] = []
    if req.trace:
        shown = tokens[: limits.max_trace_tokens]
        joiner = "" if model.level == "char" else " "
        prefixes = [joiner.join(shown[: i + 1]) for i in range(len(shown))]
        readable = [i for i, text in enumerate(prefixes) if text.strip()]  # " ": no token yet
        steps = [None] * len(shown)
        for i, q in zip(readable, model.predict([prefixes[i] for i in readable]), strict=True):
            steps[i] = q.probabilities
    return {"label": p.label, "probability": p.probability, "labels": model.label_names,
            "probabilities": p.probabilities, "tokens": tokens, "steps": steps,
            "steps_truncated": req.trace and len(tokens) > limits.max_trace_tokens}  # fmt: skip


def lm(model, req, limits: Limits) -> dict:
    """A sample continuing ``req.prompt``, as ``rnnlab sample`` draws and joins it."""
    completion = model.sample(req.prompt, req.max_tokens, req.temperature, req.top_k, req.seed)
    joiner = "" if model.level == "char" or not req.prompt or not completion else " "
    return {"prompt": req.prompt, "completion": completion,
            "text": f"{req.prompt}{joiner}{completion}"}  # fmt: skip


def tag(model, req, limits: Limits) -> dict:
    """The tokens of ``req.text``, their tags, and the entities the tags spell."""
    if not req.text.strip():
        raise InputError("nothing to tag: the text is blank")
    (tagged,) = model.tag([req.text])
    entities = [{"type": kind, "start": start, "end": end, "text": text}
                for kind, start, end, text in tagged.entities]  # fmt: skip
    return {"tokens": tagged.tokens, "tags": tagged.tags, "entities": entities}


def translate(model, req, limits: Limits) -> dict:
    """The translation of ``req.text`` and its attention (one row per output token)."""
    from rnnlab.models.seq2seq import DEFAULT_ALPHA

    if not req.text.strip():
        raise InputError("nothing to translate: the text is blank")
    max_len = req.max_len
    if max_len is None:  # the model's default (2 * source + 10), within the limit
        max_len = min(2 * len(model.src_tokens(req.text)) + 10, limits.max_tokens)
    (r,) = model.translate([req.text], req.beam, max_len, DEFAULT_ALPHA)
    attention = None if r.attention is None else r.attention.float().tolist()
    return {"translation": r.text, "src_tokens": r.src_tokens, "output_tokens": r.output_tokens,
            "score": r.score, "finished": r.finished, "attention": attention}  # fmt: skip


def speech(model, wav: bytes, filename: str, beam: int, limits: Limits) -> dict:
    """What an uploaded WAV file says (``model.transcribe`` reads it from a private temporary
    file, removed after; an error names the upload's ``filename`` instead)."""
    fd, path = tempfile.mkstemp(suffix=".wav", prefix="rnnlab-serve-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(wav)
        wave, rate = audio.read_wav(path)  # (C, N) at the file's own rate
        if wave.shape[-1] > limits.max_audio_seconds * rate:
            raise InputError(f"{filename} lasts {wave.shape[-1] / rate:,.0f} s, over the limit "
                             f"of {limits.max_audio_seconds:g} s")  # fmt: skip
        (t,) = model.transcribe([path], beam=beam)
    except ValueError as e:  # InputError: not a WAV, too short, silence
        raise InputError(str(e).replace(path, filename)) from e
    finally:
        Path(path).unlink(missing_ok=True)
    return {"text": t.text, "digits": t.digits, "probability": t.probability}


def caption(model, image: bytes, filename: str, beam: int, max_len: int,
            limits: Limits) -> dict:  # fmt: skip
    """A caption of an uploaded image (``model.caption_files`` reads it from a private
    temporary file, removed after; an error names the upload's ``filename`` instead)."""
    from PIL import Image

    from rnnlab.data.errors import DataError

    try:  # the header only: a few KB of PNG can declare a picture of gigabytes
        with Image.open(io.BytesIO(image)) as im:
            pixels = im.size[0] * im.size[1]
    except Image.DecompressionBombError:  # over twice Pillow's own limit
        pixels = math.inf
    except (OSError, SyntaxError, ValueError):  # no image: caption_files says what is wrong
        pixels = 0
    if pixels > limits.max_image_pixels:
        raise InputError(f"{filename} is too large: over {limits.max_image_pixels:,} pixels")
    fd, path = tempfile.mkstemp(suffix=Path(filename).suffix[:8], prefix="rnnlab-serve-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(image)
        (c,) = model.caption_files([path], beam, max_len)
    except (ValueError, DataError) as e:  # not an image Pillow can read
        raise InputError(str(e).replace(path, filename)) from e
    finally:
        Path(path).unlink(missing_ok=True)
    attention = None if c.attention is None else c.attention.float().tolist()
    return {"caption": c.text, "tokens": c.tokens, "output_tokens": c.output_tokens,
            "score": c.score, "finished": c.finished, "attention": attention}  # fmt: skip


def music(model, req, limits: Limits) -> dict:
    """A sampled piano roll as a standard MIDI file (base64), as ``rnnlab sample`` writes it."""
    from rnnlab.data.music import write_midi

    roll = model.sample(req.steps, req.temperature, req.seed)
    spq = model.steps_per_quarter
    with tempfile.TemporaryDirectory(prefix="rnnlab-serve-") as tmp:
        midi = Path(write_midi(roll, Path(tmp) / "sample.mid", steps_per_quarter=spq)).read_bytes()
    return {"steps": len(roll), "steps_per_quarter": spq, "notes": int(roll.sum()),
            "midi_base64": base64.b64encode(midi).decode("ascii")}  # fmt: skip


def forecast(model, req, limits: Limits) -> dict:
    """The next ``req.steps`` values (at most the horizon) after ``req.values``, or after the
    whole series the model was trained on, with the interval's bounds."""
    from rnnlab.data.timeseries import future_dates

    horizon = model.config.horizon
    steps = req.steps or horizon
    if steps > horizon:
        raise InputError(f"this model forecasts at most {horizon} steps (its horizon), not {steps}")
    own = req.values is None
    if own:
        if model.history is None:
            raise InputError("this model holds no series (no history.json): give values")
        values = torch.tensor(model.history["values"], dtype=torch.float64)
    else:
        if not all(math.isfinite(v) for v in req.values):
            raise InputError("values must be finite numbers")
        values = torch.tensor(req.values, dtype=torch.float64)
    f = model.forecast(values, samples=req.samples, seed=req.seed)
    dates = future_dates(model.history["dates"], steps) if own else None
    return {**{k: f[k][:steps].tolist() for k in ("point", "lo", "hi")}, "dates": dates,
            "history": values[-4 * horizon :].tolist()}  # fmt: skip


def series(model, req, limits: Limits) -> dict:
    """The class of one multichannel series (one row per step)."""
    import numpy as np

    channels = model.config.channels
    widths = {len(row) for row in req.series}
    if widths != {channels}:
        raise InputError(f"each step must hold {channels} values (the model's channels); got "
                         f"rows of {sorted(widths)}")  # fmt: skip
    x = np.asarray(req.series, dtype=np.float64)  # (T, C)
    if np.isinf(x).any() or (np.abs(x[np.isfinite(x)]) > np.finfo(np.float32).max).any():
        raise InputError("series values must be finite (NaN where missing) and within float32's "
                         "range")  # fmt: skip
    (p,) = model.predict([x.astype(np.float32)])
    return {"label": p.label, "probability": p.probability, "labels": model.labels,
            "probabilities": p.probabilities}  # fmt: skip


def embeddings(model, req, limits: Limits) -> dict:
    """The words nearest ``words`` minus ``minus`` (cosine), as ``rnnlab similar`` finds them."""
    kv = _vectors(model)
    for word in [*req.words, *req.minus]:
        kv.id(word)  # UnknownWordError (an InputError) naming a word it does not know
    best = kv.most_similar(req.words, req.minus, topn=req.topn)
    return {"neighbours": [{"word": w, "score": s} for w, s in best]}


@functools.lru_cache(maxsize=8)
def _vectors(model):
    """``model.keyed_vectors()`` (a copy of the input vectors), made once per loaded model."""
    return model.keyed_vectors()


# config.json's "task" -> the JSON handler (speech and caption take an upload: :func:`speech`,
# :func:`caption`)
HANDLERS: dict[str, Callable] = {
    "classify": classify,
    "lm": lm,
    "tag": tag,
    "translate": translate,
    "music": music,
    "forecast": forecast,
    "series": series,
    "embeddings": embeddings,
}
