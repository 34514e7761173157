"""Skeleton-of-Thought's two prompts, shared by the world's training data and the SoT mode.

Skeleton-of-Thought (Ning et al., 2023) splits by a fixed recipe rather than a learned one:

1. the model writes a *skeleton*: a numbered list of short point titles, one per line;
2. every point is then expanded by its own thread, which sees the question and the skeleton
   but not the other points' expansions;
3. the answer is the expansions, in order.

On one shared KV cache the whole thing is one sequence per thread::

    <chat prompt: question + SKELETON_REQUEST> SKELETON <eos-less end> POINT_CUE(i, title) BODY_i

The skeleton is decoded by the main thread until it ends (``end of turn``); each point thread
then starts with the forced cue :func:`point_cue` placed right after the skeleton (all
points at the same positions, as chunks are) and decodes its body until it ends.
"""

from __future__ import annotations

import re

__all__ = ["SKELETON_REQUEST", "parse_skeleton", "parse_transcript", "point_cue",
           "points_of_annotated", "reference_points", "render_skeleton", "render_transcript",
           "skeleton_prompt", "sot_prompt", "splice", "transcript_of_annotated"]

SKELETON_REQUEST = ("Write only the skeleton of your answer: a numbered list of short point "
                    "titles, one per line.")

_POINT = re.compile(r"^\s*(\d+)\.\s*(.+?)\s*$")


def skeleton_prompt(question: str) -> str:
    """The user message that asks for a skeleton of the answer to ``question``."""
    return f"{question.rstrip()}\n\n{SKELETON_REQUEST}"


def render_skeleton(titles: list[str]) -> str:
    """``1. A\\n2. B``: the text the skeleton thread writes (no trailing newline)."""
    return "\n".join(f"{i}. {t}" for i, t in enumerate(titles, 1))


def parse_skeleton(text: str) -> list[str]:
    """The point titles in a decoded skeleton, in order; lines that are not ``N. title`` are
    skipped."""
    return [m.group(2) for line in text.splitlines() if (m := _POINT.match(line))]


def point_cue(index: int, title: str) -> str:
    """The forced text that starts point ``index`` (1-based) right after the skeleton."""
    return f"\n\nPoint {index} ({title}): "


def splice(bodies: list[str], sep: str = "\n\n") -> str:
    """The answer SoT shows: every point's expansion, in skeleton order."""
    return sep.join(b.strip() for b in bodies)


def reference_points(example) -> list[tuple[str, str]]:
    """(title, body) of every point of a world example's reference answer read as a skeleton:
    one point per independent part, then ``Conclusion`` for text after a sync (SoT has no
    step that sees the points, so a conclusion is a point like any other); an answer with no
    parts is one point, ``Answer``."""
    from pasta_core.world.prompts import Piece, Sync

    if not example.parts:
        return [("Answer", example.plain.strip())]
    points = [(p.topic, p.body.strip()) for p in example.parts]
    segments = example.segments
    last_sync = max((i for i, s in enumerate(segments) if isinstance(s, Sync)), default=None)
    if last_sync is not None:
        tail = "".join(s.text for s in segments[last_sync + 1:] if isinstance(s, Piece)).strip()
        if tail:
            points.append(("Conclusion", tail))
    return points


def points_of_annotated(annotated: str) -> list[tuple[str, str]]:
    """(title, body) of every point of a PASTA-LANG answer read as a skeleton, by the rule of
    :func:`reference_points`: one point per chunk, ``Conclusion`` for main-thread text after
    the last sync, and ``Introduction`` for main-thread text before the first promise; an
    answer with no chunk is one point, ``Answer``."""
    from pasta_core import lang

    parsed = lang.parse(annotated)
    if not parsed["chunks"]:
        return [("Answer", parsed["text"].strip())]
    points = [(c["topic"].strip() or f"Part {i}", c["body"].strip())
              for i, c in enumerate(parsed["chunks"], 1)]
    main = parsed["main"]
    intro = main[:main.find("<")] if "<" in main else ""
    tail = main[main.rfind(lang.SYNC) + len(lang.SYNC):] if lang.SYNC in main else ""
    tail = re.sub(r"<[^<>]*/>", "", tail)  # a promise after the last sync is a point above
    return ([("Introduction", intro.strip())] if intro.strip() else []) + points + (
        [("Conclusion", tail.strip())] if tail.strip() else [])


def transcript_of_annotated(annotated: str) -> str:
    """The SoT transcript that answers like a PASTA-LANG answer does (its points as above):
    what a methods race forces on the SoT run when it forces this answer on PASTA's."""
    points = points_of_annotated(annotated)
    titles = [" ".join(t.split()) for t, _ in points]  # one line each
    return render_transcript(render_skeleton(titles), titles, [b for _, b in points])


# -- the SoT mode of the interpreter (docs/PASTA_LANG.md §6) ---------------------------------

def sot_prompt(prompt: str | list[dict[str, str]]) -> str | list[dict[str, str]]:
    """The prompt an SoT run decodes: the question (the last user message of a conversation)
    wrapped by :func:`skeleton_prompt`; the chat template is applied by the tokenizer."""
    if isinstance(prompt, str):
        return skeleton_prompt(prompt)
    out = [dict(m) for m in prompt]
    for m in reversed(out):
        if m.get("role") == "user":
            m["content"] = skeleton_prompt(str(m.get("content", "")))
            break
    return out


def render_transcript(skeleton: str, titles: list[str], bodies: list[str]) -> str:
    """A whole SoT run as one text: the skeleton, then each point's cue and body in order. It is
    what a point thread sees of the others' work (the skeleton) plus its own, laid end to end;
    a trace's ``annotated`` field holds it and a forced answer is written in it."""
    return skeleton + "".join(point_cue(i, t) + b for i, (t, b) in
                              enumerate(zip(titles, bodies, strict=True), 1))


def parse_transcript(text: str) -> tuple[str, list[str], list[str]]:
    """(skeleton, titles, bodies) of a transcript (:func:`render_transcript`). The skeleton runs
    to the first point cue; each body to the next cue. A skeleton alone has no bodies (forced,
    it lets the points decode freely). ValueError when the skeleton's points and the cues that
    follow it disagree (a missing, extra or misnamed point)."""
    first = text.find(point_cue(1, "")[:-3])  # "\n\nPoint 1 (": the first cue, whatever its title
    skeleton = text if first < 0 else text[:first]
    titles = parse_skeleton(skeleton)
    if first < 0:
        return skeleton, titles, []
    bodies: list[str] = []
    at = first
    for i, title in enumerate(titles, 1):
        cue = point_cue(i, title)
        if not text.startswith(cue, at):
            raise ValueError(f"point {i} of the skeleton ({title!r}) must start with {cue!r} "
                             f"at offset {at}")
        at += len(cue)
        end = text.find(point_cue(i + 1, titles[i]), at) if i < len(titles) else len(text)
        if end < 0:
            raise ValueError(f"point {i + 1} of the skeleton ({titles[i]!r}) never starts")
        bodies.append(text[at:end])
        at = end
    if not titles:
        raise ValueError("point cues follow a skeleton that has no numbered points")
    return skeleton, titles, bodies
