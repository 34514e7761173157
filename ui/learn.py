"""The Learn tab: an annotated response taken apart, live, with no model.

Structure, errors and the spliced text come from `pasta_core.lang`; token ids, position ids and
the training mask from `pasta_core.layout` (`ThreadTokens.from_text` + `build_layout`, the very
code training runs); the theoretical speed-up from `metrics.theoretical_speedup` over the step
count of the PASTA schedule, from the real interpreter run without a model (`api.dry_run`).
Tokenizer: the bundled model's when it is built, else the built-in one of `random:` models.
"""

from __future__ import annotations

import functools
import html
import logging
from dataclasses import dataclass

import plotly.graph_objects as go

from pasta_core import lang, metrics
from pasta_core.api import dry_run
from pasta_core.layout import ThreadTokens, build_layout
from pasta_core.models import BUNDLED_DIR, builtin_tokenizer

from .charts import empty_figure, mask_heatmap
from .lanes import thread_color

log = logging.getLogger(__name__)

MAX_TOKENS_SHOWN = 320  # the heatmap and the token strip stop here (a long text stays fast)

EXPLAINER = """
**PASTA-LANG** has three tags. The model writes them; an interpreter runs them.

- `<promise topic="T" tokens="N"/>` — written by the **main thread**: a part about *T*, about
  *N* tokens long, will be written by its own thread, starting now. The main thread skips *N*
  positions and goes on.
- `<async topic="T">…</async>` — the part's body, written by **its own thread** (the
  interpreter writes the opening tag itself); the thread ends at `</async>`.
- `<sync/>` — the **main thread** waits until every part promised so far is written, then sees
  them all.

All threads decode in the **same forward pass** over **one shared KV cache**; the attention
mask lets each token see only what its thread may see (the heatmap below). The reader gets the
*spliced* text: each promise replaced by its part, tags removed.

> Tian Jin et al., *Learning to Keep a Promise: Scaling Language Model Decoding Parallelism with
> Learned Asynchronous Decoding*, ICML 2025. [arXiv:2502.11517](https://arxiv.org/abs/2502.11517)
"""


@functools.lru_cache(maxsize=1)
def split_by_rules(text: str) -> str:
    """The text's plain answer (its tags spliced away) annotated again by syntax alone
    (`pasta_core.annotate`, APAR's rules), tokens counted with the Learn tab's tokenizer: what
    a hand-made splitting rule would promise, to compare with the model's own promises."""
    from pasta_core import lang
    from pasta_core.annotate import annotate

    tok = tokenizer()[0]
    plain = lang.parse(text)["text"]
    return annotate(plain, lambda s: len(tok.encode(s, add_special_tokens=False)))


def tokenizer() -> tuple[object, str, int]:
    """(tokenizer, its name, its end-of-sequence id): the bundled model's when it is built."""
    path = BUNDLED_DIR / "pasta-tiny"
    if (path / "tokenizer.json").is_file() or (path / "tokenizer_config.json").is_file():
        try:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(path)
            return tok, "bundled:pasta-tiny", tok.eos_token_id
        except Exception as e:  # a half-written model directory: fall back, say so in the log
            log.warning("cannot read the bundled tokenizer (%s); using the built-in one", e)
    tok = builtin_tokenizer()
    return tok, "built-in tokenizer of random: models", tok.convert_tokens_to_ids("<|end|>")


def encode(text: str) -> list[int]:
    tok = tokenizer()[0]
    return tok.encode(text, add_special_tokens=False)  # type: ignore[attr-defined]


@dataclass
class Analysis:
    structure_html: str
    errors_html: str
    spliced: str
    tokens_html: str
    mask_figure: go.Figure
    speedup_html: str


def _chip(text: str, color: str, extra: str = "") -> str:
    return f"<span class='chip' style='--c:{color}'{extra}>{html.escape(text)}</span>"


def structure_html(doc: lang.Document) -> str:
    out = ["<div class='structure'><div class='struct-main'><b>main thread</b><div>"]
    for p in doc.main:
        if isinstance(p, str):
            out.append(html.escape(p))
        elif isinstance(p, lang.Promise):
            c = doc.chunks[p.chunk]
            tokens = "default" if c.tokens is None else str(c.tokens)
            out.append(_chip(f"promise #{p.chunk + 1} {c.topic} · {tokens}",
                             thread_color(p.chunk + 1)))
        elif isinstance(p, lang.Sync):
            out.append("<span class='sync'>⇥ sync</span>")
    out.append("</div></div><div class='struct-chunks'>")
    for k, c in enumerate(doc.chunks):
        out.append(f"<div class='struct-chunk' style='--c:{thread_color(k + 1)}'>"
                   f"<b>thread {k + 1} · {html.escape(c.topic or '(no topic)')}</b>"
                   f"<div>{html.escape(c.body) or '<i>empty</i>'}</div></div>")
    if not doc.chunks:
        out.append("<div class='muted'>No promises: one thread writes everything.</div>")
    out.append("</div></div>")
    return "".join(out)


def errors_html(doc: lang.Document, text: str) -> str:
    if not doc.errors:
        return "<div class='ok'>✓ No PASTA-LANG errors.</div>"
    rows = []
    for e in doc.errors:
        line = text.count("\n", 0, e.offset) + 1
        rows.append(f"<li><code>{html.escape(e.code)}</code> at character {e.offset} "
                    f"(line {line}): {html.escape(e.message)}</li>")
    return f"<div class='errs'><b>{len(doc.errors)} error(s)</b><ul>{''.join(rows)}</ul></div>"


def analyze(text: str) -> Analysis:
    """Everything the Learn tab shows for one annotated response. Never raises on bad text."""
    text = text or ""
    doc = lang.parse_document(text)
    structure, errors = structure_html(doc), errors_html(doc, text)
    tok, tok_name, eos = tokenizer()
    if doc.errors:
        note = "Fix the errors above to see token positions, the training mask and the speed-up."
        return Analysis(structure, errors, doc.text, f"<div class='muted'>{note}</div>",
                        empty_figure("Training attention mask", note), "")
    tt = ThreadTokens.from_text(text, encode, eos)
    lay = build_layout([], tt)
    ids = lay.input_ids[0].tolist()
    positions = lay.position_ids[0].tolist()
    threads = lay.thread_ids.tolist()
    labels = lay.labels[0].tolist()
    n = min(len(ids), MAX_TOKENS_SHOWN)
    pieces = [tok.decode([i]) for i in ids[:n]]  # type: ignore[attr-defined]
    # a token is learned when the logits of the token before it in its thread predict it
    learned = {idx[k] for idx in lay.index for k in range(1, len(idx))
               if labels[idx[k - 1]] != -100}
    chips = []
    for j in range(n):
        cls = "tok" if j in learned else "tok tok-nolearn"
        shown = pieces[j].replace("\n", "⏎") or "·"
        chips.append(f"<span class='{cls}' style='--c:{thread_color(threads[j])}' "
                     f"title='thread {threads[j]} · position {positions[j]}'>"
                     f"<b>{html.escape(shown)}</b><sub>{positions[j]}</sub></span>")
    more = f"<div class='muted'>… {len(ids) - n} more tokens not shown</div>" if len(ids) > n \
        else ""
    tokens = (f"<div class='tok-legend muted'>{len(ids)} tokens ({html.escape(tok_name)}), in "
              "training order: each chunk right after its promise. Colour = thread, small number "
              "= position id, faded = not learned (forced opening tag, or a thread's first token)."
              f"</div><div class='toks'>{''.join(chips)}</div>{more}")
    visible = lay.visible[:n, :n]
    vis_rows = [row.nonzero()[:, 0].tolist() for row in visible]
    row_labels = [f"{j}·{pieces[j]!r}" for j in range(n)]
    fig = mask_heatmap(vis_rows, threads[:n], row_labels, row_labels,
                       "Training attention mask (rows attend to coloured columns)",
                       height=min(720, 260 + 3 * n))
    run = dry_run(tok, eos, text, max_threads=64)  # the interpreter's own schedule, no model
    steps, tokens_total = run.steps, run.tokens_total
    speed = metrics.theoretical_speedup(tokens_total, steps)
    speed_html = (
        f"<div class='cards'><div class='card card-accent' data-metric='learn.speedup' "
        f"data-value='{speed!r}'><div class='card-title'>Theoretical speed-up</div>"
        f"<div class='card-big'>{speed:.2f}×</div><div class='card-sub'>{tokens_total} tokens "
        f"÷ {steps} PASTA steps (every chunk running at once)</div></div>"
        f"<div class='card'><div class='card-title'>Threads</div><div class='card-big'>"
        f"{1 + len(tt.chunks)}</div><div class='card-sub'>main + {len(tt.chunks)} async</div>"
        "</div></div>")
    return Analysis(structure, errors, doc.text, tokens, fig, speed_html)

