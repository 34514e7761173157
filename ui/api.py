"""HTTP API on the app's port: live events over Server-Sent Events and OpenAI-compatible chat.

  POST /api/decode/stream   JSON body            → SSE, one event per interpreter event
  GET  /api/decode/stream   the same as query    → SSE
  POST /v1/chat/completions OpenAI chat, streaming or not, the spliced answer as content
  GET  /v1/models           the model specs this server offers
  GET  /api/queue           the decoding slot: running, waiting, recent jobs

Every route reads the same events the UI draws; nothing is re-derived on the side.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pasta_core.events import Done, Splicer, Trace
from pasta_core.models import ModelSpecError
from pasta_core.settings import KNOB, PUBLIC, RUN_MODES, SettingsError

from .jobs import JobQueue, Queued, QueueFull, scrub
from .jobs import Request as JobRequest

log = logging.getLogger(__name__)


def _knob_fields(names: tuple[str, ...]) -> dict[str, Any]:
    """Pydantic fields for decoding settings: types and defaults from `settings.KNOBS`; ranges
    are checked by `DecodeRequest.build` against this server's limits, naming the field."""
    return {n: (KNOB[n].kind, Field(KNOB[n].default, description=KNOB[n].help)) for n in names}


_SETTING_NAMES = tuple(k.name for k in PUBLIC)


class _DecodeFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str
    model: str | None = None
    mode: Literal[RUN_MODES] = "pasta"  # type: ignore[valid-type]
    force: str | None = Field(None, description="teacher-force this annotated response")
    methods: list[str] | None = Field(
        None, description="mode methods: the 2 to 4 methods that race (sequential, pasta, sot, "
                          "apar); sequential, pasta and sot when not given")


DecodeBody = create_model("DecodeBody", __base__=_DecodeFields,
                          __doc__="A decoding request (`/api/decode/stream`). Settings as in "
                                  "the CLI.", **_knob_fields(_SETTING_NAMES))


def decode_job(body: Any, default_model: str, owner: str, jobs: JobQueue) -> JobRequest:
    settings = body.model_dump(include=set(_SETTING_NAMES))
    return JobRequest.build(body.model or default_model, body.prompt, body.mode, body.force,
                            settings, owner, jobs.limits(), body.methods)


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class Message(BaseModel):
    role: str
    content: str | list[TextPart]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content)


class _ChatFields(BaseModel):
    """OpenAI chat completions. `mode`, `max_threads` and `max_thread_tokens` are extensions
    (pass them with the openai client's `extra_body`). Sampling defaults to greedy, as in the
    CLI, unless `temperature` is given."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int = Field(1, ge=1, le=1)
    stream_options: dict[str, Any] | None = None
    mode: Literal["pasta", "sequential", "plain"] = "pasta"


ChatBody = create_model("ChatBody", __base__=_ChatFields, **_knob_fields(
    tuple(n for n in _SETTING_NAMES if n != "max_new_tokens")))


def chat_job(body: Any, owner: str, jobs: JobQueue) -> JobRequest:
    settings = body.model_dump(include=set(_SETTING_NAMES))
    name = "max_completion_tokens" if body.max_completion_tokens is not None else "max_tokens"
    given = getattr(body, name)
    settings["max_new_tokens"] = KNOB["max_new_tokens"].default if given is None else given
    roles = {"developer": "system"}  # OpenAI's newer name for the system role
    messages = [{"role": roles.get(m.role, m.role), "content": m.text()} for m in body.messages]
    try:
        return JobRequest.build(body.model, messages, body.mode, None, settings, owner,
                                jobs.limits())
    except SettingsError as e:  # name the field the client sent, not ours
        if e.field != "max_new_tokens":
            raise
        raise SettingsError(str(e).replace("max_new_tokens", name), name) from None


def client_id(request: Request) -> str:
    """Who is asking, for the per-client queue limit: behind a proxy (Spaces) the address the
    nearest proxy appended to X-Forwarded-For (the last one: earlier ones are the client's own
    word), else the peer's."""
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
    return forwarded or (request.client.host if request.client else "")


def openai_error(status: int, message: str, param: str | None = None,
                 code: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": code}}, status_code=status)


def api_error(status: int, message: str, code: str, openai: bool,
              param: str | None = None) -> JSONResponse:
    """The API's error shape: `{"error": message, "code": …}` (OpenAI's shape on /v1/)."""
    if openai:
        return openai_error(status, message, param, code)
    return JSONResponse({"error": message, "code": code}, status_code=status)


def _error_for(e: Exception, openai: bool) -> JSONResponse:
    param = getattr(e, "field", None)
    if isinstance(e, ModelSpecError):
        status, param, code = 404, "model", "model_not_found"
    elif isinstance(e, QueueFull):
        status, code = 503, "queue_full"
    else:
        status, code = 400, "invalid_value"
    # messages echo the visitor's own fields; the registry already scrubbed any load error
    return api_error(status, str(e), code, openai, param)


def pasta_fields(trace: Trace) -> dict[str, Any]:
    """The PASTA measures of a run, as the OpenAI route's extra `pasta` field."""
    return {"mode": trace.mode, "steps": trace.steps, "tokens_total": trace.tokens_total,
            "parallelism": trace.parallelism, "threads": len(trace.threads),
            "async_threads": len(trace.threads) - 1, "kv_tokens": trace.kv_tokens,
            "wall_s": trace.wall_s, "end_reason": trace.end_reason}


REFUSED = (SettingsError, ModelSpecError, QueueFull, ValueError)


async def _until_disconnected(request: Request) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(0.25)


def create_router(jobs: JobQueue, default_model: str) -> APIRouter:
    r = APIRouter()

    async def sse(make_job: Any):
        try:
            ticket = await jobs.submit(make_job())
        except REFUSED as e:
            return _error_for(e, openai=False)

        async def gen() -> AsyncIterator[dict[str, str]]:
            agen = jobs.events(ticket, queued=True)  # headers and a `queued` event at once
            try:
                async for ev in agen:
                    yield {"event": ev.type, "data": json.dumps(ev.to_dict())}
            except Exception:  # a failure mid-run is an event, not a dropped connection
                log.exception("decode stream failed")
                yield {"event": "error", "data": json.dumps(
                    {"error": "decoding failed on the server; try again", "code": "failed"})}
            finally:
                await agen.aclose()

        return EventSourceResponse(gen(), ping=15)

    @r.post("/api/decode/stream")
    async def decode_stream_post(body: DecodeBody, request: Request):  # type: ignore[valid-type]
        return await sse(lambda: decode_job(body, default_model, client_id(request), jobs))

    @r.get("/api/decode/stream")
    async def decode_stream_get(request: Request):
        params = dict(request.query_params)
        try:
            body = DecodeBody(**params)
        except ValidationError as e:
            return api_error(400, _validation_message(e), "invalid_value", openai=False)
        return await sse(lambda: decode_job(body, default_model, client_id(request), jobs))

    @r.get("/api/queue")
    async def queue():
        return jobs.status()

    @r.get("/v1/models")
    async def models():
        now = int(time.time())
        return {"object": "list", "data": [
            {"id": m, "object": "model", "created": now, "owned_by": "pasta"}
            for m in jobs.registry.available()]}

    @r.post("/v1/chat/completions")
    async def chat(body: ChatBody, request: Request):  # type: ignore[valid-type]
        try:
            ticket = await jobs.submit(chat_job(body, client_id(request), jobs))
        except REFUSED as e:
            return _error_for(e, openai=True)
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                "model": body.model}
        if not body.stream:
            return await _chat_whole(jobs, ticket, base, request)
        return EventSourceResponse(_chat_chunks(jobs, ticket, base, body), ping=15)

    known = {route.path for route in r.routes}

    @r.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                 include_in_schema=False)
    @r.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                 include_in_schema=False)
    async def elsewhere(request: Request, rest: str):
        """Unknown API paths (which would fall through to the web UI's mount) and wrong
        methods, in the API's error shape."""
        openai = request.url.path.startswith("/v1/")
        if request.url.path in known:
            return api_error(405, f"{request.method} is not allowed on {request.url.path}",
                             "method_not_allowed", openai)
        return api_error(404, "no such route; see /api/docs", "not_found", openai)

    return r


async def _last_trace(jobs: JobQueue, ticket: Any) -> Trace | None:
    trace = None
    async for ev in jobs.events(ticket):
        if isinstance(ev, Done):
            trace = ev.trace
    return trace


async def _chat_whole(jobs: JobQueue, ticket: Any, base: dict, request: Request):
    """A non-streaming completion; a client that leaves stops its run (or its wait) at once."""
    work = asyncio.ensure_future(_last_trace(jobs, ticket))
    watch = asyncio.ensure_future(_until_disconnected(request))
    try:
        await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
    if not work.done():
        work.cancel()  # the job's generator closes: its run stops within one step
        return api_error(499, "the client closed the request", "client_closed", openai=True)
    try:
        trace = work.result()
    except REFUSED as e:
        return _error_for(e, openai=True)
    except Exception:
        log.exception("chat completion failed")
        return api_error(500, "decoding failed on the server; try again", "failed", openai=True)
    if trace is None:
        return api_error(500, "the run ended without a result; try again", "failed", openai=True)
    return {**base, "object": "chat.completion", "choices": [{
        "index": 0, "message": {"role": "assistant", "content": trace.text},
        "finish_reason": _finish(trace), "logprobs": None}],
        "usage": _usage(trace), "pasta": pasta_fields(trace)}


async def _chat_chunks(jobs: JobQueue, ticket: Any, base: dict, body: Any
                       ) -> AsyncIterator[str]:
    include_usage = bool((body.stream_options or {}).get("include_usage"))

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        return json.dumps({**base, "object": "chat.completion.chunk", "choices": [{
            "index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra})

    splicer = Splicer()
    agen = jobs.events(ticket)
    try:
        yield chunk({"role": "assistant", "content": ""})
        async for ev in agen:
            if isinstance(ev, Queued):
                continue
            new = splicer.add(ev)
            if new:
                yield chunk({"content": new})
            if isinstance(ev, Done):
                yield chunk({}, _finish(ev.trace), pasta=pasta_fields(ev.trace))
                if include_usage:
                    yield json.dumps({**base, "object": "chat.completion.chunk",
                                      "choices": [], "usage": _usage(ev.trace)})
        yield "[DONE]"
    except Exception:
        log.exception("chat stream failed")
        yield json.dumps({"error": {"message": "decoding failed on the server; try again",
                                    "type": "server_error", "param": None, "code": "failed"}})
    finally:
        await agen.aclose()


def _finish(trace: Trace) -> str:
    return "length" if trace.end_reason == "max_new_tokens" else "stop"


def _usage(trace: Trace) -> dict[str, int]:
    prompt = len(trace.prompt_token_ids)
    return {"prompt_tokens": prompt, "completion_tokens": trace.tokens_total,
            "total_tokens": prompt + trace.tokens_total}


def _validation_message(e: Exception) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        parts = []
        for err in errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return "invalid request: " + "; ".join(parts)
    return f"invalid request: {e}"


def install(app: FastAPI, jobs: JobQueue, default_model: str, max_body_bytes: int) -> None:
    """Add the API routes, clear 400s for malformed bodies, and the body-size limit."""
    app.include_router(create_router(jobs, default_model))

    def ours(request: Request) -> bool:
        return request.url.path.startswith(("/api/", "/v1/"))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if not ours(request):
            return await request_validation_exception_handler(request, exc)
        return api_error(400, _validation_message(exc), "invalid_value",
                         request.url.path.startswith("/v1/"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """FastAPI's own errors (unknown route, wrong method, a body it cannot parse, such as
        JSON nested too deep) in the API's shape on the API's paths."""
        if not ours(request):
            return await http_exception_handler(request, exc)
        codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        detail = exc.detail if isinstance(exc.detail, str) else "invalid request"
        return api_error(exc.status_code, scrub(detail), codes.get(exc.status_code,
                         "invalid_value"), request.url.path.startswith("/v1/"))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return api_error(500, "the server failed on this request; try again", "failed",
                         request.url.path.startswith("/v1/"))

    app.add_middleware(BodyLimit, limit=max_body_bytes, prefixes=("/api/", "/v1/"))


class BodyLimit:
    """Refuse request bodies over `limit` bytes on the API paths with a 413, whether or not
    the client sent Content-Length (chunked bodies are counted as they arrive)."""

    def __init__(self, app, limit: int, prefixes: tuple[str, ...]):
        self.app, self.limit, self.prefixes = app, limit, prefixes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._reject(scope, receive, send)
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
            if len(body) > self.limit:
                return await self._reject(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _reject(self, scope, receive, send):
        msg = f"the request body is over this server's limit of {self.limit} bytes"
        if scope["path"].startswith("/v1/"):
            resp = openai_error(413, msg, code="request_too_large")
        else:
            resp = JSONResponse({"error": msg, "code": "request_too_large"}, status_code=413)
        await resp(scope, receive, send)
