"""Model specs → a loaded model: (model, tokenizer, device, dtype).

Specs (docs/DESIGN.md "Model specs"):
  bundled:NAME             assets/models/NAME, shipped with the project
  random:ARCH[?k=v&...]    random weights from a small config (llama, qwen2, gemma) and a
                           byte-level BPE tokenizer built in code; k in hidden, layers, heads,
                           kv_heads, intermediate, seed, vocab
  runs/NAME, ./dir, /dir   a local directory in Hugging Face format (config, weights, tokenizer)
  owner/name               a Hugging Face Hub id (needs the Hub to be reachable)
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import torch

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DIR = ROOT / "assets" / "models"
RUNS_DIR = Path(os.environ.get("PASTA_RUNS_DIR", ROOT / "runs"))

SPECIAL_TOKENS = ["<|pad|>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

# A small text to train the built-in tokenizer of `random:` models: plain prose plus the
# PASTA-LANG tags, so that tags cost a handful of tokens as they will in the bundled tokenizer.
_BUILTIN_CORPUS = [
    'Intro<promise topic="a" tokens="20"/><async topic="a">Body of the first part.</async>',
    'mid<promise topic="b" tokens="10"/><async topic="b">Body of the second part.</async>',
    "<sync/>End",
    "Mars is the fourth planet from the Sun. It has two moons, Phobos and Deimos.",
    "Paris is the capital of France. The Seine flows through the city.",
    "Water boils at 100 degrees Celsius at sea level. Iron has the symbol Fe.",
    "Python was created by Guido van Rossum and first released in 1991.",
    "The violin is a string instrument; the trumpet is a brass instrument.",
    "First, compare both options. Then conclude which one is better, and why.",
    "1 2 3 4 5 6 7 8 9 10 20 30 40 50 60 70 80 90 100 0",
]

ARCHS = {
    "llama": "LlamaConfig",
    "qwen2": "Qwen2Config",
    "gemma": "GemmaConfig",
}


@dataclass
class LoadedModel:
    """A model ready for decoding. `spec` is what the user asked for."""

    spec: str
    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    dtype: torch.dtype
    eos_token_ids: list[int] = field(default_factory=list)
    # idle static runners (cache + CUDA graphs) kept for the next run: runners.make_runner's pool
    runners: list = field(default_factory=list, repr=False, compare=False)

    def encode_prompt(self, prompt: str | list[dict[str, str]]) -> list[int]:
        return encode_prompt(self.tokenizer, prompt)

    def encode(self, text: str) -> list[int]:
        """Token ids of a piece of response text (no special tokens added)."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` costs as response text (what a promise's `tokens` counts)."""
        return len(self.encode(text))

    @property
    def eos_token_id(self) -> int:
        return self.eos_token_ids[0]

    @property
    def max_positions(self) -> int | None:
        """The model's position limit (None when its config does not say)."""
        config = getattr(self.model, "config", None)
        return getattr(config, "max_position_embeddings", None)


def encode_prompt(tok, prompt: str | list[dict[str, str]]) -> list[int]:
    """Prompt ids, through the tokenizer's chat template when it has one. `prompt` is the
    user's message, or a whole conversation as [{"role", "content"}, …]."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    if getattr(tok, "chat_template", None):
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return tok.encode(text, add_special_tokens=False)
    text = "\n\n".join(m["content"] for m in messages)
    return tok.encode(text, add_special_tokens=True)


class ModelSpecError(ValueError):
    """A model spec that cannot be loaded; the message says what to do."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device: torch.device) -> torch.dtype:
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def build_bpe_tokenizer(corpus: list[str], vocab_size: int = 512,
                        added: tuple[str, ...] = ()):
    """A byte-level BPE tokenizer trained on `corpus`, as a transformers fast tokenizer with a
    chat template. Byte-level and without a prefix space, so that tokenizing text in segments and
    joining the ids decodes to the joined text (layout.py relies on this). `added` strings get
    one token each (not special: they decode as text), e.g. the pieces of PASTA-LANG tags."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer)
    if added:
        tok.add_tokens([AddedToken(a, normalized=False, special=False) for a in added])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<|pad|>", eos_token="<|end|>", bos_token=None
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


@functools.lru_cache(maxsize=4)
def builtin_tokenizer(vocab_size: int = 512):
    return build_bpe_tokenizer(_BUILTIN_CORPUS, vocab_size)


_RANDOM_DEFAULTS = {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 128,
                    "seed": 0, "vocab": 512}


def random_config(arch: str, opts: dict[str, int], vocab_size: int, eos_id: int, pad_id: int):
    import transformers

    if arch not in ARCHS:
        raise ModelSpecError(
            f"unknown architecture {arch!r} in random:{arch}; use one of {sorted(ARCHS)}"
        )
    cls = getattr(transformers, ARCHS[arch])
    kw = dict(
        vocab_size=vocab_size,
        hidden_size=opts["hidden"],
        num_hidden_layers=opts["layers"],
        num_attention_heads=opts["heads"],
        num_key_value_heads=opts["kv_heads"],
        intermediate_size=opts["intermediate"],
        max_position_embeddings=4096,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        bos_token_id=None,
        tie_word_embeddings=True,
        initializer_range=0.2,  # peaked distributions: greedy ties become vanishingly rare
    )
    if arch == "gemma":
        kw["head_dim"] = opts["hidden"] // opts["heads"]
    return cls(**kw)


def parse_random_spec(spec: str) -> tuple[str, dict[str, int]]:
    body = spec[len("random:"):]
    arch, _, query = body.partition("?")
    opts = dict(_RANDOM_DEFAULTS)
    for k, v in parse_qsl(query, keep_blank_values=True):
        if k not in opts:
            raise ModelSpecError(f"unknown option {k!r} in {spec!r}; known: {sorted(opts)}")
        if not v.isdigit() or (int(v) <= 0 and k != "seed"):
            raise ModelSpecError(f"option {k}={v!r} in {spec!r} must be a positive integer")
        opts[k] = int(v)
    return arch, opts


def _load_random(spec: str, device: torch.device, dtype: torch.dtype) -> LoadedModel:
    from transformers import AutoModelForCausalLM

    arch, opts = parse_random_spec(spec)
    tok = builtin_tokenizer(opts["vocab"])
    eos = tok.convert_tokens_to_ids("<|end|>")
    config = random_config(arch, opts, len(tok), eos, tok.pad_token_id)
    config._attn_implementation = "sdpa"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(opts["seed"])
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model = model.to(device=device, dtype=dtype).eval()
    return LoadedModel(spec, model, tok, device, dtype, [eos])


def _load_dir(spec: str, path: Path, device: torch.device, dtype: torch.dtype,
              trust_remote_code: bool) -> LoadedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (path / "config.json").is_file():
        raise ModelSpecError(
            f"{spec!r} has no config.json; a model directory needs the files that "
            "save_pretrained() writes (config.json, weights, tokenizer)"
        )
    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=dtype, attn_implementation="sdpa", trust_remote_code=trust_remote_code
    )
    return _finish(spec, model, tok, device, dtype)


def _finish(spec, model, tok, device, dtype) -> LoadedModel:
    model = model.to(device).eval()
    eos: list[int] = []
    gen_eos = getattr(model.generation_config, "eos_token_id", None)
    for e in (gen_eos if isinstance(gen_eos, list) else [gen_eos]) + [tok.eos_token_id]:
        if e is not None and e not in eos:
            eos.append(int(e))
    if not eos:
        raise ModelSpecError(f"{spec!r}: the tokenizer defines no end-of-sequence token")
    return LoadedModel(spec, model, tok, device, dtype, eos)


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # runs/NAME and bundled:NAME


def _inside(base: Path, name: str, spec: str, what: str) -> Path:
    """base/name, refusing any name that is not a plain folder name (no separators, no `..`,
    no absolute path) or that resolves outside `base` (a symlink out)."""
    if not RUN_NAME.match(name) or name in (".", ".."):
        raise ModelSpecError(f"{spec!r} is not a valid {what}: a name is 1-64 letters, digits, "
                             "'.', '_' or '-', starting with a letter or digit")
    path = base / name
    try:
        inside = path.resolve().is_relative_to(base.resolve())
    except OSError:
        inside = False
    if not inside:
        raise ModelSpecError(f"{spec!r} is not a valid {what}")
    return path


def resolve_dir(spec: str, local: bool = True) -> Path | None:
    """The local directory a spec names, or None for random: specs and Hub ids. `local=False`
    (a visitor's spec) refuses anything but bundled:NAME and runs/NAME. Messages name the spec,
    never a server path."""
    if spec.startswith("bundled:"):
        path = _inside(BUNDLED_DIR, spec[len("bundled:"):], spec, "bundled model name")
        if not path.is_dir():
            raise ModelSpecError(
                f"bundled model {spec!r} is not installed; available: "
                f"{', '.join(list_bundled()) or 'none'} (build them with "
                "`python -m pasta_core train world`), or use random:llama"
            )
        return path
    if spec.startswith("runs/"):
        path = _inside(RUNS_DIR, spec[len("runs/"):], spec, "training run name")
        if not path.is_dir():
            raise ModelSpecError(f"there is no training run {spec!r}; train one in the Train tab "
                                 "or with `python -m pasta_core train`")
        return path
    if not local:
        return None
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    if spec.startswith((".", "/", "~")):
        raise ModelSpecError(f"model directory {spec!r} does not exist")
    return None


def list_bundled() -> list[str]:
    if not BUNDLED_DIR.is_dir():
        return []
    return sorted(p.name for p in BUNDLED_DIR.iterdir() if (p / "config.json").is_file())


def load_model(spec: str, device: str | torch.device | None = None,
               dtype: str | torch.dtype | None = None,
               trust_remote_code: bool = False, local: bool = True) -> LoadedModel:
    """Load a model spec (see the module docstring) and warm it up, so that the first timed
    run is not charged for one-off allocations. Raises ModelSpecError with advice. `local=False`
    is for specs a visitor wrote: no local directory but bundled:NAME and runs/NAME."""
    if not isinstance(spec, str) or not spec.strip():
        raise ModelSpecError("the model spec is empty; use bundled:pasta-tiny, random:llama, "
                             "a local directory or a Hub id")
    lm = _load(spec.strip(), device, dtype, trust_remote_code, local)
    with torch.inference_mode():
        lm.model(input_ids=torch.tensor([lm.encode_prompt("warm up")], device=lm.device))
    return lm


def _load(spec: str, device: str | torch.device | None, dtype: str | torch.dtype | None,
          trust_remote_code: bool, local: bool = True) -> LoadedModel:
    dev = torch.device(device) if device is not None else default_device()
    if isinstance(dtype, str):
        names = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
                 "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
        if dtype not in names:
            raise ModelSpecError(f"unknown dtype {dtype!r}; use one of {', '.join(names)}")
        dtype = names[dtype]
    dt = dtype or default_dtype(dev)
    if spec.startswith("random:"):
        return _load_random(spec, dev, dt)
    path = resolve_dir(spec, local)
    if path is not None:
        return _load_dir(spec, path, dev, dt, trust_remote_code)
    if not _HUB_ID.match(spec):
        raise ModelSpecError(
            f"unknown model spec {spec!r}; use bundled:NAME, random:llama|qwen2|gemma, "
            "runs/NAME, a local directory, or a Hugging Face Hub id like owner/name"
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(spec, trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(
            spec, dtype=dt, attn_implementation="sdpa", trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as e:
        raise ModelSpecError(
            f"could not load Hub model {spec!r}: {e}. The Hugging Face Hub must be reachable "
            "(it is not offline); otherwise download it elsewhere and pass its directory."
        ) from e
    return _finish(spec, model, tok, dev, dt)
