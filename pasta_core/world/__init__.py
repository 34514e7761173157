"""The bundled synthetic world: true facts, prompt/response generators and a judge.

* :mod:`pasta_core.world.facts`   entities in 9 categories with structured, true facts;
* :mod:`pasta_core.world.prompts` 14 instruction shapes → :class:`Example` records rendered as
  plain text and as PASTA-LANG canonical text, with disjoint train/validation/test splits;
* :mod:`pasta_core.world.judge`   a deterministic score of a response (precision, recall,
  coverage).
"""

from pasta_core.world.facts import CATEGORIES, ENTITIES, Entity, render_fact
from pasta_core.world.judge import JudgeScore, judge_response
from pasta_core.world.prompts import (
    SHAPES,
    SPLITS,
    Example,
    generate_split,
    render_annotated,
    stand_in_count_tokens,
    to_jsonl_record,
)

__all__ = [
    "CATEGORIES",
    "ENTITIES",
    "SHAPES",
    "SPLITS",
    "Entity",
    "Example",
    "JudgeScore",
    "generate_split",
    "judge_response",
    "render_annotated",
    "render_fact",
    "stand_in_count_tokens",
    "to_jsonl_record",
]
