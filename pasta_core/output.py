"""The output processor: a thread's tokens → text, tags and the actions they call for (vLLM's
name for it). No model and no tensors: give it a tokenizer and token ids, and it says what a
viewer sees and what the interpreter must do (fork a chunk, wait at a sync, end the thread).

Text is detokenised incrementally (O(1) per token, never half a character) and scanned for
PASTA-LANG tags as it arrives (`lang.TagStream`), also when a tag spans several tokens; a tag
cut short is held back until it completes or the thread ends, then shown as the text it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import lang


class Detokenizer:
    """Incremental detokenisation: O(1) work per token, no half characters (vLLM's scheme)."""

    def __init__(self, tokenizer) -> None:
        self.tok = tokenizer
        self.ids: list[int] = []
        self.prefix = 0
        self.read = 0

    def add(self, token_id: int) -> str:
        self.ids.append(token_id)
        before = self.tok.decode(self.ids[self.prefix:self.read], skip_special_tokens=True)
        now = self.tok.decode(self.ids[self.prefix:], skip_special_tokens=True)
        if len(now) > len(before) and not now.endswith("\ufffd"):
            self.prefix, self.read = self.read, len(self.ids)
            return now[len(before):]
        return ""

    def flush(self) -> str:
        """Text held back at the end (an incomplete character is shown as it decodes)."""
        before = self.tok.decode(self.ids[self.prefix:self.read], skip_special_tokens=True)
        now = self.tok.decode(self.ids[self.prefix:], skip_special_tokens=True)
        self.prefix = self.read = len(self.ids)
        return now[len(before):]


@dataclass
class TokenOutput:
    """What one token means: its text, the tags it completed, and the actions they call for."""

    raw: str  # decoded text, tags included
    text: str  # text safe to show (tags and partial tags held back)
    tags: list[dict] = field(default_factory=list)  # [{kind, at, thread?}] completed here
    promises: list[lang.Tag] = field(default_factory=list)  # main: chunks to fork, in order
    sync: bool = False  # main: this token ends a <sync/>
    end: str | None = None  # the thread ends here: eos, forced_end, close_tag


class ThreadOutput:
    """One thread's tokens → `TokenOutput`s. `plain` (the baseline's ordinary decoding) treats
    tags as text."""

    def __init__(self, tokenizer, is_main: bool, plain: bool = False) -> None:
        self.detok = Detokenizer(tokenizer)
        self.tags = lang.TagStream()
        self.is_main = is_main
        self.plain = plain

    def token(self, tok: int, end: str | None, next_thread: int) -> TokenOutput:
        """Process one chosen token. `end` is "eos" or "forced_end" when the caller knows the
        thread ends with it; `next_thread` is the id the next promise's chunk will get."""
        raw = self.detok.add(tok)
        if end is not None:
            raw += self.detok.flush()
        items = self.tags.feed(raw) if not self.plain else [raw]
        if end is not None:
            items += self.tags.flush()
        out = TokenOutput(raw, "", end=end)
        text, at = [], 0
        for it in items:
            if isinstance(it, str):
                text.append(it)
                at += len(it)
                continue
            out.tags.append({"kind": it.kind, "at": at})
            if self.is_main and it.kind == "promise":
                out.tags[-1]["thread"] = next_thread + len(out.promises)  # the chunk it starts
                out.promises.append(it)
            elif self.is_main and it.kind == "sync":
                out.sync = True
            elif not self.is_main and it.kind == "close":
                out.end = "close_tag"
                break
        out.text = "".join(text)
        return out

    def opening(self, ids: list[int]) -> str:
        """A chunk's forced opening tag, fed as text the viewer never sees."""
        raw = "".join(self.detok.add(t) for t in ids)
        self.tags.feed(raw)
        return raw

    def finish(self, end_reason: str | None) -> tuple[str, str]:
        """(raw, shown): text held back when the thread ends. A character or a tag cut short by
        a cap or a stop is shown as the plain text it is; after a close tag nothing is."""
        held = self.detok.flush()
        if self.plain:
            return held, held
        if end_reason == "close_tag":
            return held, ""
        return held, "".join(it for it in self.tags.feed(held) + self.tags.flush()
                             if isinstance(it, str))
