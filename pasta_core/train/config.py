"""Every default of a finetuning run (stage 1 SFT, stage 2 BoNBoN, the evaluation after), in
ONE place. The CLI's `train stage1|stage2` flags, the Train tab's presets and form, and the
world recipe's stage 2 all read them from here.

    TrainConfig()                 the smallest useful run (tests, a first look: seconds)
    PRESETS["cpu-demo"]           87 s end to end on a quiet 2-core CPU from pasta-tiny-base
                                  under the Space's 300-step cap (`estimate.py` scales it)
    PRESETS["full"]               the paper's shape of a run, for a GPU (the CLI's default)

Stage 2's step is deliberately small (5e-5, one pass per round): IPO's margin is a sum over a
whole answer, so a larger step (2e-4, two epochs) overshot it by tens of nats and cost quality
round after round (measured while building the bundled models; see `prefs.PrefConfig`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from .loop import LoopConfig
from .prefs import PrefConfig


class ConfigError(ValueError):
    """A training setting out of range; the message says the range, `fields` which settings."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()):
        super().__init__(message)
        self.fields = fields


@dataclass
class TrainConfig:
    """The numbers of a finetuning run. The defaults are the smallest useful run."""

    examples: int = 120  # world examples: stage 1's data (world) and stage 2's prompt pool
    seed: int = 0
    # stage 1
    lr: float = 3e-3
    epochs: float = 1.0
    max_steps: int = 0  # 0: no cap of our own (a Space's cap still applies)
    batch_tokens: int = 2048
    lora: bool = False
    # both stages: weight of the penalty on tags a thread may never write (`loop.grammar_penalty`)
    grammar_weight: float = 1.0
    # stage 2
    prompts: int = 4
    n_samples: int = 4
    lam: float = 1.0
    beta: float = 0.1
    alpha: float = 0.5
    rounds: int = 2
    lr2: float = 1e-4
    epochs2: float = 1.0
    sample_tokens: int = 64  # max new tokens of each stage-2 sample
    # evaluation
    eval_prompts: int = 8

    def loop1(self, cap: int | None = None) -> LoopConfig:
        """Stage 1's optimisation loop; `cap`: a Space's step cap (None or 0: none)."""
        return LoopConfig(epochs=self.epochs, lr=self.lr, batch_tokens=self.batch_tokens,
                          max_steps=_cap(self.max_steps, cap), seed=self.seed)

    def pref(self, cap: int | None = None, **over) -> PrefConfig:
        """Stage 2's settings (`over` replaces PrefConfig fields the form does not show)."""
        # batch_tokens stays PrefConfig's: stage 2 takes one (chosen, rejected) pair a step
        loop = replace(PrefConfig().loop, epochs=self.epochs2, lr=self.lr2,
                       max_steps=_cap(self.max_steps, cap), seed=self.seed)
        return PrefConfig(prompts=self.prompts, n_samples=self.n_samples, lam=self.lam,
                          beta=self.beta, alpha=self.alpha, rounds=self.rounds,
                          max_new_tokens=self.sample_tokens,
                          grammar_weight=self.grammar_weight, loop=loop, **over)

    def numbers(self) -> dict[str, float | int | bool]:
        return {f.name: getattr(self, f.name) for f in fields(TrainConfig)}

    def check(self) -> None:
        """Raise ConfigError naming the first setting out of range."""
        for names, ok, msg in _rules(self):
            if not ok:
                raise ConfigError(msg, names)


def _cap(mine: int, space: int | None) -> int | None:
    if not space:
        return mine if mine and mine > 0 else None
    return min(mine, space) if mine and mine > 0 else space


def _finite(*xs: float) -> bool:
    return all(isinstance(x, int | float) and math.isfinite(x) for x in xs)


def _rules(c: TrainConfig) -> list[tuple[tuple[str, ...], bool, str]]:
    """(the settings a rule reads, whether they pass, what the range is)."""
    def rate(x: float) -> bool:
        return _finite(x) and 0 < x <= 1

    def epochs(x: float) -> bool:
        return _finite(x) and 0 < x <= 100

    return [
        (("lr",), rate(c.lr), "learning rates must be in (0, 1]"),
        (("lr2",), rate(c.lr2), "learning rates must be in (0, 1]"),
        (("epochs",), epochs(c.epochs), "epochs must be in (0, 100]"),
        (("epochs2",), epochs(c.epochs2), "epochs must be in (0, 100]"),
        (("max_steps",), c.max_steps >= 0, "max steps must be 0 (no cap) or more"),
        (("batch_tokens",), 128 <= c.batch_tokens <= 262144,
         "the batch size must be 128 to 262144 tokens"),
        (("examples",), 1 <= c.examples, "use at least one world example"),
        (("prompts",), 1 <= c.prompts, "stage 2 needs at least one prompt per round"),
        (("n_samples",), 2 <= c.n_samples <= 16,
         "N samples must be 2 to 16 (the paper uses 4 or more)"),
        (("rounds",), 1 <= c.rounds <= 20, "rounds must be 1 to 20"),
        (("lam",), _finite(c.lam) and c.lam >= 0, "λ must be 0 or more"),
        (("grammar_weight",), _finite(c.grammar_weight) and 0 <= c.grammar_weight <= 100,
         "the tag-grammar weight must be 0 (off) to 100"),
        (("beta",), _finite(c.beta) and c.beta > 0,
         "β must be more than 0 (IPO's target margin is 1/(2β))"),
        (("alpha",), _finite(c.alpha) and 0 <= c.alpha <= 1, "α must be in [0, 1]"),
        (("sample_tokens",), 4 <= c.sample_tokens <= 1024,
         "stage-2 sample length must be 4 to 1024 tokens"),
        (("eval_prompts",), 1 <= c.eval_prompts, "evaluate on at least one prompt"),
    ]


# "cpu-demo": many small stage-1 steps (a model this small needs updates more than tokens).
# "full": the paper's shape of a run; stage 2 keeps the measured gentle step (module docstring).
PRESETS: dict[str, TrainConfig] = {
    "cpu-demo": TrainConfig(examples=2000, lr=2e-3, epochs=3.0, batch_tokens=1024, prompts=12,
                            rounds=2, lr2=5e-5, epochs2=1.0, sample_tokens=128, eval_prompts=8),
    "full": TrainConfig(examples=2000, lr=1e-3, epochs=2.0, batch_tokens=4096, prompts=96,
                        rounds=2, lr2=5e-5, epochs2=1.0, sample_tokens=320, eval_prompts=40),
}
DEFAULT_PRESET = "full"  # the CLI's


def preset(name: str, **over) -> TrainConfig:
    """A copy of a named preset (KeyError names the presets there are)."""
    if name not in PRESETS:
        raise KeyError(f"no preset {name!r}; presets: {', '.join(PRESETS)}")
    return replace(PRESETS[name], **over)


def preset_dict(name: str) -> dict:
    return asdict(PRESETS[name])
