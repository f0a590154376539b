"""The JSON of ``POST /api/models/<name>/predict``, one request and one response per model kind.

Requests are built for an app's :class:`~rnnlab.serve.limits.Limits` (:func:`requests_for`), so
the OpenAPI schema states each field's bounds; a body outside them is a 422 naming the field.
Responses are fixed. A speech model takes a multipart upload instead of JSON (the app says so).
"""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import BaseModel, ConfigDict, Field

from rnnlab.serve.limits import Limits

__all__ = ["requests_for", "responses"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored


def requests_for(limits: Limits) -> SimpleNamespace:
    """The request models of every kind, their bounds taken from ``limits``: ``.classify``,
    ``.lm``, ``.tag``, ``.translate``, ``.music``, ``.forecast``, ``.series``,
    ``.embeddings``."""
    bounds = {"min_length": 1, "max_length": limits.max_text_chars}

    def seed_field():
        return Field(None, ge=0, le=2**63 - 1, description="the same seed gives the same output")

    class ClassifyRequest(_Request):
        text: str = Field(..., **bounds, description="the text to classify (a review)")
        trace: bool = Field(True, description="also the class probabilities after each of the "
                            f"first {limits.max_trace_tokens} tokens")  # fmt: skip

    class LMRequest(_Request):
        prompt: str = Field("", max_length=limits.max_text_chars, description="text to continue")
        max_tokens: int | None = Field(
            None, ge=1, le=limits.max_tokens, description="default: 20 words or 200 characters"
        )
        temperature: float = Field(1.0, ge=0.0, le=10.0, description="0: greedy")
        top_k: int | None = Field(None, ge=1, description="draw among the k most probable only")
        seed: int | None = seed_field()

    class TagRequest(_Request):
        text: str = Field(..., **bounds, description="a sentence to tag")

    class TranslateRequest(_Request):
        text: str = Field(..., **bounds, description="a source sentence")
        beam: int = Field(1, ge=1, le=limits.max_beam, description="1: greedy")
        max_len: int | None = Field(None, ge=1, le=limits.max_tokens,
                                    description="most target tokens; default: 2 * source + 10, "
                                    f"at most {limits.max_tokens}")  # fmt: skip

    class MusicRequest(_Request):
        steps: int = Field(64, ge=1, le=limits.max_steps, description="time steps to generate")
        temperature: float = Field(1.0, ge=0.0, le=10.0, description="0: keys above 1/2")
        seed: int | None = seed_field()

    class ForecastRequest(_Request):
        values: list[float] | None = Field(None, min_length=1, max_length=limits.max_series_steps,
                                           description="the history to continue; default: the "
                                           "series the model was trained on")  # fmt: skip
        steps: int | None = Field(None, ge=1, description="default and most: the horizon")
        samples: int = Field(
            200, ge=1, le=limits.max_samples, description="Monte-Carlo dropout draws (mc-dropout)"
        )
        seed: int = Field(0, ge=0, le=2**63 - 1)

    class SeriesRequest(_Request):
        series: list[list[float]] = Field(..., min_length=1, max_length=limits.max_series_steps,
                                          description="one row per time step, one value per "
                                          "channel (NaN as null is not accepted)")  # fmt: skip

    class EmbeddingsRequest(_Request):
        words: list[str] = Field(..., min_length=1, max_length=limits.max_words,
                                 description="the query: the words' vectors summed")  # fmt: skip
        minus: list[str] = Field([], max_length=limits.max_words,
                                 description="words subtracted (man:king :: woman:? is "
                                 "words [king, woman], minus [man])")  # fmt: skip
        topn: int = Field(10, ge=1, le=100)

    return SimpleNamespace(classify=ClassifyRequest, lm=LMRequest, tag=TagRequest,
                           translate=TranslateRequest, music=MusicRequest,
                           forecast=ForecastRequest, series=SeriesRequest,
                           embeddings=EmbeddingsRequest)  # fmt: skip


class ModelInfo(BaseModel):
    """One loaded run: its folder name, kind, and whether the API can use it."""

    name: str
    task: str  # config.json's "task"
    kind: str  # "a text classifier"
    input: str  # "json", "wav" (multipart upload), or "none" (no API for this kind)
    labels: list[str] | None = None  # a classifier's class names


class ModelList(BaseModel):
    models: list[ModelInfo]


class ClassifyResponse(BaseModel):
    label: str
    probability: float
    labels: list[str]
    probabilities: list[float]
    tokens: list[str]  # as the model reads them
    # probabilities after tokens[: i + 1] for i < len(steps); None where that prefix has no
    # token the model reads (leading spaces, character level)
    steps: list[list[float] | None]
    steps_truncated: bool  # True: the text is longer than the traced tokens


class LMResponse(BaseModel):
    prompt: str
    completion: str
    text: str  # prompt and completion joined as the model's level joins tokens


class Entity(BaseModel):
    type: str
    start: int  # token index
    end: int  # exclusive
    text: str


class TagResponse(BaseModel):
    tokens: list[str]
    tags: list[str]
    entities: list[Entity]


class TranslateResponse(BaseModel):
    translation: str
    src_tokens: list[str]
    output_tokens: list[str]  # <eos> last when the sentence ended
    score: float
    finished: bool
    attention: list[list[float]] | None  # (len(output_tokens), len(src_tokens)); None: no attention


class SpeechResponse(BaseModel):
    text: str
    digits: str
    probability: float


class MusicResponse(BaseModel):
    steps: int
    steps_per_quarter: int
    notes: int  # key-steps sounding
    midi_base64: str  # a standard MIDI file


class ForecastResponse(BaseModel):
    point: list[float]
    lo: list[float]
    hi: list[float]
    dates: list[str] | None  # after the model's own series; None for given values
    history: list[float]  # the last values before the forecast (up to 4 horizons)


class SeriesResponse(BaseModel):
    label: str
    probability: float
    labels: list[str]
    probabilities: list[float]


class Neighbour(BaseModel):
    word: str
    score: float


class EmbeddingsResponse(BaseModel):
    neighbours: list[Neighbour]


responses = SimpleNamespace(classify=ClassifyResponse, lm=LMResponse, tag=TagResponse,
                            translate=TranslateResponse, speech=SpeechResponse,
                            music=MusicResponse, forecast=ForecastResponse,
                            series=SeriesResponse, embeddings=EmbeddingsResponse)  # fmt: skip
