"""PASTA-LANG v1: tag scanner, parser, canonical form and splice (docs/PASTA_LANG.md §1–3).

One scanner (`scan_tag`) recognises tags. The parser uses it on whole texts, the interpreter
uses it through `TagStream` on text that arrives token by token, so a tag means the same thing
in a dataset, in the UI's Learn tab and in a live decoding run.

The parser never raises on model output: it returns the best structure it can and one error
per problem (docs/PASTA_LANG.md §3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_TOKENS = 50  # the interpreter's default chunk length when `tokens` is missing/invalid
MAX_TOKENS = 1000  # `tokens` values are clamped to [0, MAX_TOKENS]
MAX_TAG_CHARS = 512  # a longer candidate is plain text (bounds how much text a stream holds back)

TagKind = Literal["promise", "async", "close", "sync"]
_NAMES: dict[str, TagKind] = {"promise": "promise", "async": "async", "sync": "sync"}
_ATTR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]*")
_INT = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Tag:
    """One recognised tag: its kind, its span in the scanned text and its attributes."""

    kind: TagKind
    start: int
    end: int
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return self.attrs.get("topic", "")


class _Partial:
    """Sentinel: the text seen so far could still become a tag."""

    def __repr__(self) -> str:
        return "PARTIAL"


PARTIAL = _Partial()


def scan_tag(text: str, i: int, final: bool = True) -> Tag | _Partial | None:
    """Recognise a tag starting at ``text[i] == '<'``.

    Returns the Tag, None when the text there is not a tag, or PARTIAL when ``final`` is False
    and the text ends while it could still become one (a stream must wait for more text).
    """
    n = len(text)
    limit = min(n, i + MAX_TAG_CHARS)

    def incomplete() -> _Partial | None:
        return PARTIAL if not final and limit == n else None

    j = i + 1
    closing = j < limit and text[j] == "/"
    if closing:
        j += 1
    k = j
    while k < limit and text[k].isalpha():
        k += 1
    name = text[j:k]
    if k == limit:  # the name itself may still be growing
        wanted = ("async",) if closing else tuple(_NAMES)
        return incomplete() if any(w.startswith(name) for w in wanted) else None
    if closing:
        if name != "async":
            return None
        while k < limit and text[k].isspace():
            k += 1
        if k == limit:
            return incomplete()
        return Tag("close", i, k + 1) if text[k] == ">" else None
    kind = _NAMES.get(name)
    if kind is None:
        return None
    attrs: dict[str, str] = {}
    while True:
        ws = k
        while k < limit and text[k].isspace():
            k += 1
        if k == limit:
            return incomplete()
        c = text[k]
        if kind == "async" and c == ">":
            return Tag(kind, i, k + 1, attrs)
        if kind != "async" and c == "/":
            if k + 1 == limit:
                return incomplete()
            return Tag(kind, i, k + 2, attrs) if text[k + 1] == ">" else None
        if k == ws:  # an attribute must be separated from what precedes it by white space
            return None
        m = _ATTR_NAME.match(text, k, limit)
        if m is None:
            return None
        key, k = m.group(), m.end()
        while k < limit and text[k].isspace():
            k += 1
        if k == limit:
            return incomplete()
        if text[k] != "=":
            return None
        k += 1
        while k < limit and text[k].isspace():
            k += 1
        if k == limit:
            return incomplete()
        quote = text[k]
        if quote not in "\"'":
            return None
        close = text.find(quote, k + 1, limit)
        if close < 0:
            return incomplete()
        attrs.setdefault(key, text[k + 1 : close])
        k = close + 1


def parse_tokens(value: str | None) -> tuple[int | None, bool]:
    """A `tokens` attribute → (clamped value or None, whether it was present but invalid)."""
    if value is None:
        return None, False
    v = value.strip()
    if not _INT.fullmatch(v):
        return None, True
    return min(int(v), MAX_TOKENS), False


def quote_attr(name: str, value: str) -> str:
    q = "'" if '"' in value else '"'
    return f"{name}={q}{value}{q}"


def promise_tag(topic: str, tokens: int | None) -> str:
    attrs = quote_attr("topic", topic)
    if tokens is not None:
        attrs += " " + quote_attr("tokens", str(tokens))
    return f"<promise {attrs}/>"


def async_open_tag(topic: str) -> str:
    return f"<async {quote_attr('topic', topic)}>"


ASYNC_CLOSE = "</async>"
SYNC = "<sync/>"


# ---------------------------------------------------------------------------------------------
# Streaming: text arrives a token at a time


@dataclass
class TagStream:
    """Splits text that arrives in pieces into plain text and tags, never releasing the start
    of a tag as text. `feed` returns items: a str (plain text, safe to show) or a Tag (offsets
    relative to everything fed so far). `flush` releases what is held back at the end."""

    _buf: str = ""
    _base: int = 0  # offset of _buf[0] in the whole stream

    def feed(self, piece: str) -> list[str | Tag]:
        self._buf += piece
        return self._drain(final=False)

    def flush(self) -> list[str | Tag]:
        # the held text can no longer grow: scan it as a whole text does, so that a complete
        # tag after an unfinished one (e.g. '<promise topic="<sync/>') is still a tag
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[str | Tag]:
        buf, out, i, search = self._buf, [], 0, 0
        while True:
            j = buf.find("<", search)
            if j < 0:
                break
            tag = scan_tag(buf, j, final=final)
            if tag is PARTIAL:
                if j > i:
                    out.append(buf[i:j])
                self._consume(j)
                return out
            if tag is None:
                search = j + 1
                continue
            if j > i:
                out.append(buf[i:j])
            out.append(Tag(tag.kind, tag.start + self._base, tag.end + self._base, tag.attrs))
            i = search = tag.end
        if len(buf) > i:
            out.append(buf[i:])
        self._consume(len(buf))
        return out

    @property
    def held(self) -> str:
        return self._buf

    def _consume(self, n: int) -> None:
        self._base += n
        self._buf = self._buf[n:]


def thread_end(text: str) -> int:
    """Where a chunk thread's text ends: right after its first `</async>` (what follows in the
    same token is not part of the chunk), else the whole text."""
    i = 0
    while (j := text.find("</", i)) >= 0:
        tag = scan_tag(text, j)
        if isinstance(tag, Tag) and tag.kind == "close":
            return tag.end
        i = j + 1
    return len(text)


# ---------------------------------------------------------------------------------------------
# Parsing whole texts


@dataclass(frozen=True)
class ParseError:
    code: str
    offset: int
    message: str


@dataclass
class Chunk:
    topic: str
    tokens: int | None  # None: missing or invalid → the interpreter's default length
    offset: int  # where its promise stands
    body: str = ""
    bound: bool = False

    @property
    def length(self) -> int:
        return DEFAULT_TOKENS if self.tokens is None else self.tokens


@dataclass(frozen=True)
class Promise:
    chunk: int


@dataclass(frozen=True)
class Sync:
    pass


@dataclass(frozen=True)
class BlockHere:
    """Where a bound async block stood in the source (used only by the in-place rendering)."""

    chunk: int


Piece = str | Promise | Sync | BlockHere


@dataclass
class Document:
    """The structure of an annotated response: main-thread pieces, chunks, errors."""

    main: list[Piece]
    chunks: list[Chunk]
    errors: list[ParseError]

    @property
    def text(self) -> str:
        """The spliced, user-facing text."""
        out = []
        for p in self.main:
            if isinstance(p, str):
                out.append(p)
            elif isinstance(p, Promise):
                out.append(self.chunks[p.chunk].body)
        return "".join(out)

    def render(self, blocks: Literal["after_promise", "in_place", "none"] = "after_promise") -> str:
        out = []
        for p in self.main:
            if isinstance(p, str):
                out.append(p)
            elif isinstance(p, Sync):
                out.append(SYNC)
            elif isinstance(p, Promise):
                c = self.chunks[p.chunk]
                out.append(promise_tag(c.topic, c.tokens))
                if blocks == "after_promise" or (blocks == "in_place" and not c.bound):
                    out.append(chunk_thread_text(c.topic, c.body))
            elif blocks == "in_place":
                c = self.chunks[p.chunk]
                out.append(chunk_thread_text(c.topic, c.body))
        return "".join(out)

    @property
    def main_text(self) -> str:
        return self.render(blocks="none")

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "main": self.main_text,
            "chunks": [{"topic": c.topic, "tokens": c.tokens, "body": c.body} for c in self.chunks],
            "errors": [{"code": e.code, "offset": e.offset, "message": e.message}
                       for e in self.errors],
        }


def chunk_thread_text(topic: str, body: str) -> str:
    """The whole text of a chunk's thread: forced opening tag, body, closing tag."""
    return async_open_tag(topic) + body + ASYNC_CLOSE


@dataclass
class _Block:
    start: int
    chunk: int | None  # None: orphan
    body: list[str] = field(default_factory=list)


def parse_document(text: str) -> Document:
    """Parse an annotated response. Never raises; see docs/PASTA_LANG.md §3 for the error rules."""
    main: list[Piece] = []
    chunks: list[Chunk] = []
    errors: list[ParseError] = []
    unbound: list[int] = []
    block: _Block | None = None

    def err(code: str, offset: int, message: str) -> None:
        errors.append(ParseError(code, offset, message))

    def add_text(s: str) -> None:
        if s:
            (block.body if block is not None else main).append(s)

    def end_block() -> None:
        nonlocal block
        assert block is not None
        body = "".join(block.body)
        if block.chunk is None:
            if body:
                main.append(body)
        else:
            chunks[block.chunk].body = body
        block = None

    i = text_start = 0
    while (j := text.find("<", i)) >= 0:
        tag = scan_tag(text, j, final=True)
        if not isinstance(tag, Tag):
            i = j + 1
            continue
        add_text(text[text_start:j])
        i = text_start = tag.end
        if block is not None:
            if tag.kind == "close":
                end_block()
            else:
                name = {"promise": "a promise", "sync": "a sync", "async": "an async opening"}
                err("nested_tag", j, f"{name[tag.kind]} tag inside an async body is not executed;"
                    " removed")
            continue
        if tag.kind == "promise":
            tokens, bad = parse_tokens(tag.attrs.get("tokens"))
            if bad:
                err("bad_tokens", j, f"tokens={tag.attrs['tokens']!r} is not a non-negative "
                    f"integer; the default length ({DEFAULT_TOKENS}) is used")
            chunks.append(Chunk(tag.topic, tokens, j))
            unbound.append(len(chunks) - 1)
            main.append(Promise(len(chunks) - 1))
        elif tag.kind == "sync":
            main.append(Sync())
        elif tag.kind == "close":
            err("stray_close", j, "</async> with no open async block; removed")
        else:  # async opening
            target = next((k for k in unbound if chunks[k].topic == tag.topic), None)
            if target is None and unbound:
                target = unbound[0]
            if target is None:
                err("orphan_async", j, f"async block (topic {tag.topic!r}) has no free promise "
                    "before it; its body stays inline")
            else:
                unbound.remove(target)
                chunks[target].bound = True
                main.append(BlockHere(target))
            block = _Block(j, target)
    add_text(text[text_start:])
    if block is not None:
        err("unclosed_async", block.start, "<async> is never closed; its body runs to the end")
        end_block()
    for k in unbound:
        err("unfulfilled_promise", chunks[k].offset,
            f"promise (topic {chunks[k].topic!r}) has no async block; its chunk is empty")
    errors.sort(key=lambda e: e.offset)
    return Document(main, chunks, errors)


def _structure(d: Document) -> tuple[str, list[tuple[str, int | None, str]]]:
    return d.text, [(c.topic, c.tokens, c.body) for c in d.chunks]


def canonical_document(doc: Document, source: str) -> str:
    """The canonical text of a parsed document (docs/PASTA_LANG.md §2): tags normalised, each block
    right after its promise, removed tags dropped. PASTA-LANG has no escapes, so when moving or
    dropping text would glue stray characters into a new tag, the rendering that keeps blocks
    in place is used, and failing that the source itself: the result always parses back to the
    same spliced text and chunks."""
    for blocks in ("after_promise", "in_place"):
        out = doc.render(blocks=blocks)  # type: ignore[arg-type]
        if _structure(parse_document(out)) == _structure(doc):
            return out
    return source


# ---------------------------------------------------------------------------------------------
# The public functions (what `python -m pasta_core parse --json` prints)


def parse(text: str) -> dict:
    """`{text, main, chunks: [{topic, tokens, body}], errors: [{code, offset, message}]}`."""
    return parse_document(text).to_dict()


def canonical(text: str) -> str:
    return canonical_document(parse_document(text), text)


def splice(text: str) -> str:
    return parse_document(text).text
