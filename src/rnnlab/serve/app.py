"""The FastAPI app of ``rnnlab serve``: saved runs behind a JSON API, and one static page.

    GET  /                              the page (rnnlab/serve/static: no build step, no CDN)
    GET  /api/models                    the loaded runs: name (the run folder's), kind, input
    POST /api/models/<name>/predict     the run's kind decides the body (rnnlab.serve.schemas);
                                        a speech model or a captioner takes a multipart
                                        upload (file, beam ...)
    GET  /openapi.json, /docs           the schema, every loaded run's body spelled out (/docs:
                                        a static page drawing it, nothing fetched elsewhere)

Errors are JSON ``{"detail": "<one line>"}``: a body that does not fit the schema, or a value the
model cannot use, is 422; an unknown model 404; a body over the limit 413; a prediction still
running after ``Limits.timeout_s`` 503. A 500 is a bug of rnnlab.

Each model answers one request at a time (a lock per model: a forecaster's Monte-Carlo dropout
switches its own mode, and a CPU's cores are better spent inside one forward pass than between
several); requests run in a thread pool so the event loop keeps accepting.
"""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations, which name
# request models made inside create_app, at run time

import asyncio
import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from rnnlab.data.errors import DataError
from rnnlab.errors import UserError
from rnnlab.serve import handlers
from rnnlab.serve.limits import BodyLimit, Limits
from rnnlab.serve.schemas import ModelInfo, ModelList, requests_for, responses

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a run's name is a URL path segment

KINDS = {  # config.json's "task" -> what it is called on the page and in errors
    "classify": "a text classifier", "lm": "a language model", "tag": "a sequence tagger",
    "translate": "a translator", "speech": "a speech recogniser", "music": "a music model",
    "forecast": "a forecaster", "series": "a series classifier",
    "embeddings": "word embeddings", "caption": "an image captioner",
}  # fmt: skip
UPLOADS = {"speech": "wav", "caption": "image"}  # the tasks whose input is a file


class PredictionError(Exception):
    """An answer other than 200 for a prediction: its HTTP status and one-line message."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass
class Served:
    """One loaded run: its name, the model, and the lock that makes it answer one at a time."""

    name: str
    model: object
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def task(self) -> str:
        return self.model.task

    def info(self) -> ModelInfo:
        """What ``GET /api/models`` says of it."""
        task = self.task
        kind = KINDS.get(task, f"a model of task {task!r}")
        how = UPLOADS.get(task) or ("json" if task in handlers.HANDLERS else "none")
        labels = getattr(self.model, "label_names", None) or getattr(self.model, "labels", None)
        labels = labels if task in ("classify", "series", "speech") else None
        return ModelInfo(name=self.name, task=task, kind=kind, input=how, labels=labels)


def load_runs(runs: Sequence[str | Path] | Mapping[str, object]) -> dict[str, Served]:
    """The runs to serve by name: saved run folders (loaded by :func:`rnnlab.load`, named by the
    folder), or models already loaded, by name.

    Raises:
        ValueError: no runs, two runs of the same name, or a name that is not a URL segment.
        MissingFileError, CheckpointError: as :func:`rnnlab.load`.
    """
    import rnnlab

    if isinstance(runs, Mapping):
        models = dict(runs)
    else:
        models = {}
        for path in runs:
            name = Path(path).resolve().name
            if name in models:
                raise ValueError(f"two runs are named {name!r} (the folder's name): serve one, "
                                 "or copy one to a folder of another name")  # fmt: skip
            models[name] = rnnlab.load(path)
    if not models:
        raise ValueError("no runs to serve: give at least one saved run folder")
    for name in models:
        if not NAME.fullmatch(name):
            raise ValueError(f"a served run's name must be letters, digits, '.', '_' or '-' "
                             f"(a URL path segment), not {name!r}: rename its folder")  # fmt: skip
    return {name: Served(name, model) for name, model in models.items()}


def create_app(runs: Sequence[str | Path] | Mapping[str, object], limits: Limits | None = None
               ) -> FastAPI:  # fmt: skip
    """The app serving ``runs`` (saved run folders, or ``{name: model}``) within ``limits``.

    Raises:
        ValueError, MissingFileError, CheckpointError: as :func:`load_runs`.
    """
    limits = limits or Limits()
    served = load_runs(runs)
    requests = requests_for(limits)
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rnnlab-serve")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        pool.shutdown(wait=False, cancel_futures=True)  # at the server's shutdown

    # FastAPI's /docs and /redoc fetch their scripts from a CDN: ours is a static page instead
    app = FastAPI(title="rnnlab serve", version="1", docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="Predictions of saved rnnlab runs. Each loaded run has its own "
                              "predict route; its body follows the run's kind.")  # fmt: skip

    async def run(entry: Served, fn: Callable[[], dict]) -> dict:
        """``fn()`` (one prediction of ``entry``) in the pool under its lock, within the time
        limit (queueing included); its user errors become 422."""
        deadline = time.monotonic() + limits.timeout_s

        def locked():
            with entry.lock:
                if time.monotonic() > deadline:  # its client has been answered 503 already
                    return None
                return fn()

        future = asyncio.get_running_loop().run_in_executor(pool, locked)
        try:
            answer = await asyncio.wait_for(future, limits.timeout_s)
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on Python 3.10
            raise PredictionError(503, f"the prediction took longer than the server's limit of "
                                  f"{limits.timeout_s:g} s: ask for less (a shorter text, fewer "
                                  "tokens or steps) or try again later") from None  # fmt: skip
        except (UserError, DataError, ValueError) as e:  # what the model cannot use, named
            raise PredictionError(422, str(e)) from e
        if not _finite(answer):  # JSON has no NaN or infinity
            raise PredictionError(422, "the model's answer is not a finite number for this "
                                  "input (values far outside what it was trained on?)")  # fmt: skip
        return answer

    @app.exception_handler(PredictionError)
    async def prediction_error(request: Request, exc: PredictionError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc.errors())}, status_code=422)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/models", response_model=ModelList, summary="the loaded runs")
    async def list_models() -> ModelList:
        return ModelList(models=[entry.info() for entry in served.values()])

    for entry in served.values():
        _add_predict(app, entry, requests, limits, run)

    @app.post("/api/models/{name}/predict", summary="a name no run has", status_code=404,
              responses={404: {"description": "no run of that name is loaded"}})  # fmt: skip
    async def unknown_model(name: str) -> JSONResponse:
        raise PredictionError(404, f"no model named {name!r} is loaded (loaded: "
                              f"{', '.join(served)}); GET /api/models lists them")  # fmt: skip

    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.state.served, app.state.limits = served, limits
    return app


def _add_predict(app: FastAPI, entry: Served, requests, limits: Limits, run) -> None:
    """The route ``POST /api/models/<entry.name>/predict``, its body that of the run's kind."""
    path, task, model = f"/api/models/{entry.name}/predict", entry.task, entry.model
    doc = {"summary": f"predict with {entry.name} ({KINDS.get(task, task)})",
           "responses": {422: {"description": "a body or value the model cannot use"}}}  # fmt: skip
    if task == "speech":

        async def predict_speech(
            file: UploadFile = File(..., description="a WAV file (PCM or float)"),  # noqa: B008
            beam: int = Form(8, ge=1, le=limits.max_beam, description="CTC prefix beam"),
        ) -> responses.speech:
            wav = await file.read()
            name = file.filename or "the upload"
            return await run(entry, lambda: handlers.speech(model, wav, name, beam, limits))

        app.post(path, response_model=responses.speech, **doc)(predict_speech)
    elif task == "caption":

        async def predict_caption(
            file: UploadFile = File(..., description="an image (JPEG, PNG ...)"),  # noqa: B008
            beam: int = Form(1, ge=1, le=limits.max_beam, description="1: greedy"),
            max_len: int = Form(30, ge=1, le=100, description="most words"),
        ) -> responses.caption:
            image = await file.read()
            name = file.filename or "the upload"
            return await run(entry, lambda: handlers.caption(model, image, name, beam, max_len,
                                                             limits))  # fmt: skip

        app.post(path, response_model=responses.caption, **doc)(predict_caption)
    elif task in handlers.HANDLERS:
        handler, Body, Response = handlers.HANDLERS[task], getattr(requests, task), \
            getattr(responses, task)  # fmt: skip

        async def predict(body: Body) -> Response:
            return await run(entry, lambda: handler(model, body, limits))

        app.post(path, response_model=Response, **doc)(predict)
    else:

        async def no_api() -> JSONResponse:
            raise PredictionError(422, f"{entry.name} is {KINDS.get(task, f'a {task} model')}: "
                                  f"rnnlab serve has no API for models of task {task!r} "
                                  "yet; use the rnnlab command on it")  # fmt: skip

        app.post(path, **{**doc, "summary": f"{entry.name}: no API for its kind yet"})(no_api)


def _finite(x) -> bool:
    """Whether every float in ``x`` (an answer: dicts, lists, numbers, strings) is finite."""
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, list):
        return all(_finite(v) for v in x)
    return True


def _one_line(errors: Sequence[dict]) -> str:
    """Pydantic's validation errors as one line: ``text: String should have at least 1
    character; beam: Input should be less than or equal to 10``."""
    parts = []
    for e in errors:
        # a key the client made up may hold anything (a newline): quoted unless a plain name
        loc = [x if isinstance(x, int) or str(x).isidentifier() else repr(x)
               for x in e.get("loc", ()) if x != "body"]  # fmt: skip
        loc = [str(x) for x in loc]
        msg = e.get("msg", "invalid")
        if e.get("type") == "json_invalid":  # its loc is the character's position
            loc, msg = [], f"the body is not valid JSON ({e.get('ctx', {}).get('error', msg)})"
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return " ".join("; ".join(parts).splitlines()) or "invalid request"
