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


def described(description: str, default=...):
    """A response field with its description (shown in /openapi.json and /docs)."""
    return Field(default, description=description)


class ModelInfo(BaseModel):
    """One loaded run: its folder name, kind, and whether the API can use it."""

    name: str = described("the run folder's name: POST /api/models/NAME/predict")
    task: str = described("config.json's task (classify, lm, tag ...)")
    kind: str = described("what it is: a text classifier ...")
    input: str = described("json, wav or image (a multipart upload), or none (no API for this "
                           "kind yet)")  # fmt: skip
    labels: list[str] | None = described("a classifier's class names", None)


class ModelList(BaseModel):
    models: list[ModelInfo]


class ClassifyResponse(BaseModel):
    label: str = described("the most probable class")
    probability: float = described("its probability")
    labels: list[str] = described("every class, in the order of the probabilities")
    probabilities: list[float] = described("every class' probability")
    tokens: list[str] = described("the text's tokens, as the model reads them")
    steps: list[list[float] | None] = described(
        "the probabilities after tokens[:i+1] for each traced i; null where that prefix holds "
        "nothing the model reads (leading spaces, character level)"
    )
    steps_truncated: bool = described("true: the text has more tokens than were traced")


class LMResponse(BaseModel):
    prompt: str = described("the prompt")
    completion: str = described("the tokens drawn, joined as the model's level joins them")
    text: str = described("prompt and completion")


class Entity(BaseModel):
    type: str = described("PER, LOC ...")
    start: int = described("its first token")
    end: int = described("the token after its last")
    text: str = described("its tokens, joined")


class TagResponse(BaseModel):
    tokens: list[str] = described("the sentence's tokens")
    tags: list[str] = described("one tag per token")
    entities: list[Entity] = described("the spans the tags spell (empty for tags without spans)")


class TranslateResponse(BaseModel):
    translation: str = described("the translation")
    src_tokens: list[str] = described("the source's tokens")
    output_tokens: list[str] = described("the translation's tokens, <eos> last when it ended")
    score: float = described("the sum of its log-probabilities")
    finished: bool = described("false: cut at the length limit")
    attention: list[list[float]] | None = described(
        "one row per output token over the source tokens; null for a model without attention"
    )


class SpeechResponse(BaseModel):
    text: str = described("a class name, or the symbols heard (CTC)")
    digits: str = described("the digits heard")
    probability: float = described("P(class), or p(labelling | recording) (CTC)")


class CaptionResponse(BaseModel):
    caption: str = described("the caption")
    tokens: list[str] = described("its words")
    output_tokens: list[str] = described("the words the attention maps belong to, <eos> last "
                                         "when it ended")  # fmt: skip
    score: float = described("the sum of its log-probabilities")
    finished: bool = described("false: cut at max_len")
    attention: list[list[list[float]]] | None = described(
        "one G x G map over the image per output token; null for a model without attention"
    )


class MusicResponse(BaseModel):
    steps: int = described("time steps generated")
    steps_per_quarter: int = described("the model's grid")
    notes: int = described("key-steps sounding")
    midi_base64: str = described("a standard MIDI file, base64")


class ForecastResponse(BaseModel):
    point: list[float] = described("the forecast, one value per step")
    lo: list[float] = described("the interval's lower bound")
    hi: list[float] = described("the interval's upper bound")
    dates: list[str] | None = described("the steps' dates after the model's own series; null else")
    history: list[float] = described("the last values before the forecast (up to 4 horizons)")


class SeriesResponse(BaseModel):
    label: str = described("the most probable class")
    probability: float = described("its probability")
    labels: list[str] = described("every class, in the order of the probabilities")
    probabilities: list[float] = described("every class' probability")


class Neighbour(BaseModel):
    word: str
    score: float = described("cosine similarity to the query")


class EmbeddingsResponse(BaseModel):
    neighbours: list[Neighbour] = described("nearest first; never a word of the query")


responses = SimpleNamespace(classify=ClassifyResponse, lm=LMResponse, tag=TagResponse,
                            translate=TranslateResponse, speech=SpeechResponse,
                            caption=CaptionResponse,
                            music=MusicResponse, forecast=ForecastResponse,
                            series=SeriesResponse, embeddings=EmbeddingsResponse)  # fmt: skip
