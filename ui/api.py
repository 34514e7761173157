"""HTTP API on the app's port: live events over Server-Sent Events and OpenAI-compatible chat.

  POST /api/decode/stream   JSON body            → SSE, one event per interpreter event
  GET  /api/decode/stream   the same as query    → SSE
  POST /v1/chat/completions OpenAI chat, streaming or not, the spliced answer as content
  GET  /v1/models           the model specs this server offers
  GET  /api/queue           the decoding slot: running, waiting, recent jobs

Every route reads the same events the UI draws; nothing is re-derived on the side.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from pasta_core.events import Done, Splicer, Trace
from pasta_core.interpreter import SettingsError
from pasta_core.models import ModelSpecError

from .jobs import JobQueue, QueueFull
from .jobs import Request as JobRequest

log = logging.getLogger(__name__)


class DecodeBody(BaseModel):
    """A decoding request (`/api/decode/stream`). Settings as in the CLI."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    model: str | None = None
    mode: Literal["pasta", "sequential", "plain", "both"] = "pasta"
    force: str | None = Field(None, description="teacher-force this annotated response")
    max_new_tokens: int = Field(256, ge=1)
    max_threads: int = Field(8, ge=1)
    max_thread_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int = Field(0, ge=0)

    def job(self, default_model: str) -> JobRequest:
        settings = self.model_dump(include={"max_new_tokens", "max_threads", "max_thread_tokens",
                                            "temperature", "top_p", "seed"})
        return JobRequest(self.model or default_model, self.prompt, self.mode, self.force,
                          settings)


class Message(BaseModel):
    role: str
    content: str | list[dict[str, Any]]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")


class ChatBody(BaseModel):
    """OpenAI chat completions. `mode`, `max_threads` and `max_thread_tokens` are extensions
    (pass them with the openai client's `extra_body`). Sampling defaults to greedy, as in the
    CLI, unless `temperature` is given."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int = Field(0, ge=0)
    n: int = Field(1, ge=1, le=1)
    stream_options: dict[str, Any] | None = None
    mode: Literal["pasta", "sequential", "plain"] = "pasta"
    max_threads: int = Field(8, ge=1)
    max_thread_tokens: int = Field(256, ge=1)

    def job(self) -> JobRequest:
        settings = {"max_new_tokens": self.max_completion_tokens or self.max_tokens or 256,
                    "max_threads": self.max_threads, "max_thread_tokens": self.max_thread_tokens,
                    "temperature": self.temperature, "top_p": self.top_p, "seed": self.seed}
        messages = [{"role": m.role, "content": m.text()} for m in self.messages]
        return JobRequest(self.model, messages, self.mode, None, settings)


def openai_error(status: int, message: str, param: str | None = None,
                 code: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": code}}, status_code=status)


def _error_for(e: Exception, openai: bool) -> JSONResponse:
    if isinstance(e, ModelSpecError):
        status, param, code = 404, "model", "model_not_found"
    elif isinstance(e, QueueFull):
        status, param, code = 503, None, "queue_full"
    else:
        status, param, code = 400, None, "invalid_value"
    if openai:
        return openai_error(status, str(e), param, code)
    return JSONResponse({"error": str(e), "code": code}, status_code=status)


def pasta_fields(trace: Trace) -> dict[str, Any]:
    """The PASTA measures of a run, as the OpenAI route's extra `pasta` field."""
    return {"mode": trace.mode, "steps": trace.steps, "tokens_total": trace.tokens_total,
            "parallelism": trace.parallelism, "threads": len(trace.threads),
            "async_threads": len(trace.threads) - 1, "kv_tokens": trace.kv_tokens,
            "wall_s": trace.wall_s, "end_reason": trace.end_reason}


def create_router(jobs: JobQueue, default_model: str) -> APIRouter:
    r = APIRouter()

    async def first_event(req: JobRequest):
        """Start the job and wait for its first event, so that errors found before decoding
        starts (bad settings, unknown model, full queue) become a 4xx instead of a broken
        stream."""
        agen = jobs.run(req)
        try:
            first = await agen.__anext__()
        except BaseException:
            await agen.aclose()
            raise
        return first, agen

    async def sse(req: JobRequest):
        try:
            first, agen = await first_event(req)
        except (SettingsError, ModelSpecError, QueueFull, ValueError) as e:
            return _error_for(e, openai=False)

        async def gen() -> AsyncIterator[dict[str, str]]:
            try:
                ev = first
                while True:
                    yield {"event": ev.type, "data": json.dumps(ev.to_dict())}
                    ev = await agen.__anext__()
            except StopAsyncIteration:
                return
            except Exception as e:  # a failure mid-run is an event, not a dropped connection
                log.exception("decode stream failed")
                yield {"event": "error", "data": json.dumps({"error": str(e)})}
            finally:
                await agen.aclose()

        return EventSourceResponse(gen(), ping=15)

    @r.post("/api/decode/stream")
    async def decode_stream_post(body: DecodeBody):
        return await sse(body.job(default_model))

    @r.get("/api/decode/stream")
    async def decode_stream_get(request: Request):
        params = dict(request.query_params)
        try:
            body = DecodeBody(**params)
        except Exception as e:  # pydantic's ValidationError, shown as a 400
            return JSONResponse({"error": _validation_message(e), "code": "invalid_value"},
                                status_code=400)
        return await sse(body.job(default_model))

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
    async def chat(body: ChatBody):
        req = body.job()
        try:
            first, agen = await first_event(req)
        except (SettingsError, ModelSpecError, QueueFull, ValueError) as e:
            return _error_for(e, openai=True)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        base = {"id": cid, "created": created, "model": body.model}

        async def events():
            yield first
            async for ev in agen:
                yield ev

        if not body.stream:
            trace = None
            async for ev in events():
                if isinstance(ev, Done):
                    trace = ev.trace
            assert trace is not None
            return {**base, "object": "chat.completion", "choices": [{
                "index": 0, "message": {"role": "assistant", "content": trace.text},
                "finish_reason": _finish(trace), "logprobs": None}],
                "usage": _usage(trace), "pasta": pasta_fields(trace)}

        include_usage = bool((body.stream_options or {}).get("include_usage"))

        async def gen() -> AsyncIterator[str]:
            def chunk(delta: dict, finish: str | None = None, **extra) -> str:
                return json.dumps({**base, "object": "chat.completion.chunk", "choices": [{
                    "index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                    **extra})

            splicer = Splicer()
            try:
                yield chunk({"role": "assistant", "content": ""})
                async for ev in events():
                    new = splicer.add(ev)
                    if new:
                        yield chunk({"content": new})
                    if isinstance(ev, Done):
                        yield chunk({}, _finish(ev.trace), pasta=pasta_fields(ev.trace))
                        if include_usage:
                            yield json.dumps({**base, "object": "chat.completion.chunk",
                                              "choices": [], "usage": _usage(ev.trace)})
                yield "[DONE]"
            finally:
                await agen.aclose()

        return EventSourceResponse(gen(), ping=15)

    return r


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

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        msg = _validation_message(exc)
        if request.url.path.startswith("/v1/"):
            return openai_error(400, msg, code="invalid_value")
        return JSONResponse({"error": msg, "code": "invalid_value"}, status_code=400)

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
