"""What one request may ask of the server: body size, text length, tokens generated, time.

The schemas (:mod:`rnnlab.serve.schemas`) carry the per-field limits into the OpenAPI schema, and
:class:`BodyLimit` refuses a body over ``max_body_bytes`` before any of it is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BodyLimit", "Limits"]


@dataclass(frozen=True)
class Limits:
    """The most one request may ask for; anything more is a 413 or 422 naming the limit."""

    max_body_bytes: int = 2_000_000  # a JSON body or an uploaded WAV (2 MB: ~60 s at 16 kHz)
    max_text_chars: int = 2000  # a review, a sentence to tag or translate, an LM prompt
    max_trace_tokens: int = 256  # classify: the sentiment after each of the first N tokens
    max_tokens: int = 500  # lm: tokens sampled; translate: target tokens
    max_beam: int = 10  # translate, speech (CTC)
    max_steps: int = 512  # music: time steps generated
    max_samples: int = 1000  # forecast: Monte-Carlo dropout draws
    max_series_steps: int = 5000  # series / forecast: values per request
    max_words: int = 10  # embeddings: words in one query
    max_image_pixels: int = 25_000_000  # caption: a small file may declare a huge image
    max_audio_seconds: float = 60.0  # speech: a file at 1 Hz would resample to billions
    timeout_s: float = 20.0  # a prediction still running after this is answered 503

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")


class BodyLimit:
    """ASGI middleware: a request whose body is over ``max_bytes`` gets 413, whether it says so
    in ``Content-Length`` (refused before reading) or streams more (refused at the byte over).
    A body within the limit is read whole, then handed to the app."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        # read the whole body first (it is small, or refused): the app then sees it replayed
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        body = (b'{"detail":"the request body is over the server\'s limit of '
                + f"{self.max_bytes:,}".encode() + b' bytes"}')  # fmt: skip
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
