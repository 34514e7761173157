"""One forward step over a preallocated KV cache, replayed as a CUDA graph on a GPU (issue 7).

Why: a small model's decoding step on a GPU costs kernel launches more than arithmetic. Capturing
the whole forward once per query size and replaying it removes them (gpt-fast's trick), and
the parallel and the sequential mode both go through it, so their comparison stays fair.

A graph replays fixed tensor addresses with fixed shapes, so everything that changes from one step
to the next lives in static buffers that each step refills with `copy_`:

    inputs[0, :b]  token ids          inputs[2, :b]  cache slots the step writes its K/V to
    inputs[1, :b]  position ids       inputs[3, :b]  rows whose logits are kept (padded with 0)
    mask[:, :, :b] additive mask (model dtype) over the whole cache (width ≥ max_slots + pad)

The cache (`SlotCache`) holds every layer's K/V for all slots from the start; a step writes its
K/V with `index_copy_` at `inputs[2]` and attends over every slot, and the mask alone decides what
each row sees (masked slots weigh exactly 0, so stale slots are harmless).

Buckets: a step of n tokens runs at the smallest bucket b ≥ n of (1, 2, 4, 8, 16). Its b - n
padding tokens (token 0 at position 0) write their K/V to scratch slots right after the step's
real ones, kv_len + n …, which the next real tokens overwrite; a padding row sees only its own
slot and no real row sees a padding slot, so padding changes no kept logit. The cache has at
least max(buckets) - 1 slots beyond `max_slots`, so that padding never runs off its end. A step
larger than the largest bucket (the prompt's prefill, a burst of chunk openings) runs un-captured
through the same function, with buffers of its own size.

What a graph captures, per bucket: the model's forward on the bucket's buffer views, K/V writes
and the lm_head on the kept rows included. Outside it, per step: one pinned host→device copy of
`inputs`, the mask fill (device ops on the layout's device rows) and one clone of the kept logits.
None reads the device, so the only host sync of a step stays the interpreter's read of its tokens.

The graph-free path (a CPU, or `graphs=False`) is this same code minus capture and replay: that
is how the bookkeeping is tested on a CPU. `graphs=True` on a CPU emulates a graph (`_EagerGraph`:
the call recorded once on the buffer views, replayed by running it again into one output tensor),
so that a buffer refilled by rebinding instead of `copy_` would show up in a CPU test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers.cache_utils import Cache, CacheLayerMixin

from ..layout import ThreadTokens

log = logging.getLogger(__name__)

BUCKETS = (1, 2, 4, 8, 16)


class SlotsExhausted(RuntimeError):
    """A step needs more cache slots than the runner's `max_slots`."""


# -- the cache -------------------------------------------------------------------------------


class _SlotLayer(CacheLayerMixin):
    """One layer's K/V for every slot, allocated up front (never lazily: nothing may allocate
    inside a graph capture). Writes are done by `SlotCache.update`."""

    is_compileable = True
    is_sliding = False

    def __init__(self, keys: torch.Tensor, values: torch.Tensor):
        super().__init__()
        self.keys, self.values = keys, values
        self.is_initialized = True

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        pass  # allocated in __init__

    def update(self, key_states, value_states, *args, **kwargs):
        raise NotImplementedError("SlotCache.update writes the K/V at the runner's slots")

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.keys.shape[2], 0

    def get_seq_length(self) -> int:
        return 0  # unused: the runner always passes position ids and a 4D mask

    def get_max_length(self) -> int:
        return self.keys.shape[2]


class SlotCache(Cache):
    """Preallocated per-layer K/V of `width` slots (a transformers Cache, so any model that calls
    `past_key_values.update(k, v, layer_idx)` works). `update` writes the step's K/V at
    `write_at`, a view of the runner's static slot buffer, and returns the whole layer: the
    runner's 4D mask decides what each row sees. Every layer is full attention: sliding-window
    layers would drop slots that the PASTA mask still shows."""

    def __init__(self, config, width: int, dtype: torch.dtype, device: torch.device):
        text = config.get_text_config(decoder=True)
        heads = text.num_attention_heads
        kv_heads = getattr(text, "num_key_value_heads", None) or heads
        head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads

        def zeros() -> torch.Tensor:  # zeros, not empty: masked slots must hold finite values
            return torch.zeros(1, kv_heads, width, head_dim, dtype=dtype, device=device)

        super().__init__(layers=[_SlotLayer(zeros(), zeros())
                                 for _ in range(text.num_hidden_layers)])
        self.width = width
        self.write_at = torch.zeros(0, dtype=torch.long, device=device)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int,
               *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        layer = self.layers[layer_idx]
        layer.keys.index_copy_(2, self.write_at, key_states)
        layer.values.index_copy_(2, self.write_at, value_states)
        return layer.keys, layer.values


# -- graphs ----------------------------------------------------------------------------------


class _CudaGraph:
    """A captured forward: `replay()` reruns it on whatever the static buffers hold; `out` is the
    logits tensor the capture wrote, overwritten by every replay."""

    def __init__(self, call: Callable[[], torch.Tensor], device: torch.device, pool) -> None:
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):  # warm-up: same inputs, same K/V writes (idempotent)
            for _ in range(2):
                call()
        torch.cuda.current_stream(device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, pool=pool, capture_error_mode="thread_local"):
            self.out = call()

    def replay(self) -> None:
        self.graph.replay()


class _EagerGraph:
    """A graph's contract without CUDA: the call is recorded once on the buffer views of its
    bucket and replayed by running it again into one fixed output tensor."""

    def __init__(self, call: Callable[[], torch.Tensor]) -> None:
        self.call = call
        self.out = call()

    def replay(self) -> None:
        self.out.copy_(self.call())


# -- the runner ------------------------------------------------------------------------------


@dataclass
class _Buffers:
    """Views of one bucket's static inputs (or a big step's own tensors)."""

    inputs: torch.Tensor  # 4 × b: ids, positions, write slots, keep
    mask: torch.Tensor  # 1 × 1 × b × width

    @property
    def ids(self) -> torch.Tensor:
        return self.inputs[0:1]

    @property
    def positions(self) -> torch.Tensor:
        return self.inputs[1:2]

    @property
    def slots(self) -> torch.Tensor:
        return self.inputs[2]

    @property
    def keep(self) -> torch.Tensor:
        return self.inputs[3]


def max_slots_for(n_prompt: int, max_new_tokens: int, forced: ThreadTokens | None = None) -> int:
    """Cache slots a run needs: the prompt, then every token of every thread, each stored once.

    With a forced response (teacher forcing) that is exact: the forced threads' tokens (their
    opening tags included). Otherwise the run generates at most `max_new_tokens` tokens, and the
    forced opening tags of its chunks come on top; a chunk's opening tag repeats the topic of a
    promise tag the main thread generated (and paid for), so another `max_new_tokens` covers them
    in practice. A runner made by `make_runner` grows if a run still needs more."""
    if forced is not None:
        return n_prompt + len(forced.main) + sum(len(c) for c in forced.chunks)
    return n_prompt + 2 * max_new_tokens


class StaticRunner:
    """The runner contract of `interpreter.py` (`forward`, `kv_len`, `reset`) over a `SlotCache`
    of `max_slots` slots, a CUDA graph per bucket when `graphs` (default: on a CUDA device).

    `grow=False`: a step beyond `max_slots` raises `SlotsExhausted` (a fixed memory bound).
    `grow=True`: the cache is re-allocated at twice the size (or what the step needs), the live
    K/V copied over and the graphs re-captured on their next use: a one-off latency spike instead
    of a failed run, for callers whose estimate of the run's length can be short."""

    def __init__(self, model: torch.nn.Module, device: torch.device | str, dtype: torch.dtype,
                 max_slots: int, buckets: Sequence[int] = BUCKETS, graphs: bool | None = None,
                 grow: bool = False):
        if not isinstance(max_slots, int) or max_slots < 1:
            raise ValueError(f"max_slots must be a positive integer (got {max_slots!r})")
        if any(not isinstance(b, int) or b < 1 for b in buckets):
            raise ValueError(f"buckets must be positive integers (got {buckets!r})")
        self.model = model
        self.device = torch.device(device)
        self.dtype = dtype
        self.buckets = tuple(sorted(set(buckets)))
        self.graphs = self.device.type == "cuda" if graphs is None else bool(graphs)
        self.grow = grow
        self.kv_len = 0
        self.on_reset: Callable[[], None] | None = None  # make_runner's pool takes it back
        self.weights: tuple[int, ...] = ()  # make_runner: the weight addresses it was made for
        self._neg = torch.finfo(dtype).min
        self._allocate(max_slots)

    # -- memory --------------------------------------------------------------------------------

    def _allocate(self, max_slots: int) -> None:
        """(Re)build the cache and the static buffers; a live prefix of K/V is carried over."""
        old = getattr(self, "cache", None)
        biggest = max(self.buckets, default=1)
        self.max_slots = max_slots
        # scratch slots for the padding of a full cache; a multiple of 64 keeps every mask row
        # aligned for the fused attention kernels (they would copy a misaligned mask each step)
        self.width = -(-(max_slots + biggest - 1) // 64) * 64
        self.cache = SlotCache(self.model.config, self.width, self.dtype, self.device)
        if old is not None and self.kv_len:
            for new, was in zip(self.cache.layers, old.layers, strict=True):
                new.keys[:, :, :self.kv_len].copy_(was.keys[:, :, :self.kv_len])
                new.values[:, :, :self.kv_len].copy_(was.values[:, :, :self.kv_len])
        self._inputs = torch.zeros(4, biggest, dtype=torch.long, device=self.device)
        self._mask = torch.zeros(1, 1, biggest, self.width, dtype=self.dtype, device=self.device)
        self._graphs: dict[int, _CudaGraph | _EagerGraph] = {}  # bucket → captured forward
        self._pool = torch.cuda.graph_pool_handle() if self._cuda_graphs else None

    @property
    def _cuda_graphs(self) -> bool:
        return self.graphs and self.device.type == "cuda"

    def _room_for(self, need: int) -> None:
        if need <= self.max_slots:
            return
        if not self.grow:
            raise SlotsExhausted(
                f"the static KV cache is full: this step needs {need} slots but max_slots="
                f"{self.max_slots} (the prompt plus every thread's tokens, forced opening tags "
                "included); create the runner with a larger max_slots (max_slots_for computes "
                "one from the prompt length and max_new_tokens) or with grow=True")
        self.resize(max(need, 2 * self.max_slots))

    def resize(self, max_slots: int) -> None:
        """Re-allocate for `max_slots` slots, keeping the live K/V; graphs are re-captured on
        their next use (or by `capture`)."""
        if max_slots < self.kv_len:
            raise ValueError(f"cannot shrink below the {self.kv_len} live slots")
        log.info("static KV cache: %d → %d slots (graphs re-captured)", self.max_slots, max_slots)
        self._allocate(max_slots)

    def reset(self) -> None:
        """Forget the run. The cache, buffers and graphs stay allocated: they are the runner's
        fixed cost, reused by the next run (stale slots are never visible to it)."""
        self.kv_len = 0
        if self.on_reset is not None:
            self.on_reset()

    # -- one step ------------------------------------------------------------------------------

    def bucket(self, n: int) -> int:
        """The query size a step of n tokens runs at: the smallest bucket ≥ n, else n itself."""
        return next((b for b in self.buckets if b >= n), n)

    def _buffers(self, b: int) -> _Buffers:
        if b <= max(self.buckets, default=0):  # the same views (addresses) every time
            return _Buffers(self._inputs[:, :b], self._mask[:, :, :b])
        return _Buffers(torch.empty(4, b, dtype=torch.long, device=self.device),
                        torch.empty(1, 1, b, self.width, dtype=self.dtype, device=self.device))

    def _fill(self, bufs: _Buffers, ids: list[int], positions: list[int], rows: torch.Tensor | None,
              keep: list[int]) -> None:
        """Write one step into the buffers with copies only: n real tokens at slots kv_len…,
        then b - n padding tokens in the scratch slots after them, each seeing only itself."""
        n, b, start = len(ids), bufs.inputs.shape[1], self.kv_len
        pad = b - n
        host = torch.tensor([ids + [0] * pad, positions + [0] * pad,
                             list(range(start, start + b)), keep + [0] * (b - len(keep))],
                            dtype=torch.long)
        if self.device.type == "cuda":  # pinned + non_blocking: the copy does not wait
            bufs.inputs.copy_(host.pin_memory(), non_blocking=True)
        else:
            bufs.inputs.copy_(host)
        mask = bufs.mask[0, 0]
        mask.fill_(self._neg)
        if n:
            seen = rows[:, :start + n].to(self.device, non_blocking=True)
            mask[:n, :start + n].masked_fill_(seen, 0.0)
        if pad:
            mask[n:, start + n:start + b].diagonal().fill_(0.0)

    def _call(self, bufs: _Buffers) -> torch.Tensor:
        """The model on the buffers: exactly what a graph captures (K/V writes, lm_head on the
        kept rows). Returns the logits, b × vocab."""
        self.cache.write_at = bufs.slots
        out = self.model(input_ids=bufs.ids, position_ids=bufs.positions,
                         attention_mask=bufs.mask, past_key_values=self.cache, use_cache=True,
                         logits_to_keep=bufs.keep)
        return out.logits[0]

    def _graph(self, b: int) -> _CudaGraph | _EagerGraph | None:
        """The bucket's captured forward, captured on first use; None where graphs are off, for
        steps beyond the buckets, or when capture fails (the runner then goes on without)."""
        if not self.graphs or b not in self.buckets:
            return None
        graph = self._graphs.get(b)
        if graph is None:
            bufs = self._buffers(b)
            call = lambda: self._call(bufs)  # noqa: E731  (bound to this bucket's views)
            if not self._cuda_graphs:
                graph = _EagerGraph(call)
            else:
                try:
                    graph = _CudaGraph(call, self.device, self._pool)
                except Exception as e:  # e.g. a model that reads the device while capturing
                    log.warning("CUDA graph capture failed for %d tokens (%s); this runner "
                                "goes on without graphs", b, e)
                    self.graphs = False
                    self._graphs.clear()
                    return None
            self._graphs[b] = graph
        return graph

    @torch.inference_mode()
    def forward(self, ids: list[int], positions: list[int], rows: torch.Tensor,
                keep: list[int]) -> torch.Tensor:
        """Feed `ids` at `positions` with visibility `rows` (len(ids) × ≥ kv_len+len(ids) bool).
        Returns the logits (len(keep) × vocab) at the step indices in `keep`."""
        n = len(ids)
        self._room_for(self.kv_len + n)
        b = self.bucket(n)
        bufs = self._buffers(b)
        self._fill(bufs, list(ids), list(positions), rows, list(keep))
        graph = self._graph(b)
        if graph is None:
            logits = self._call(bufs)[:len(keep)]
        else:
            graph.replay()
            logits = graph.out[:len(keep)].clone()  # the next replay overwrites graph.out
        self.kv_len += n
        return logits

    @torch.inference_mode()
    def capture(self) -> None:
        """Capture every bucket now (before a timed run), on padding-only steps: their K/V go to
        slots ≥ kv_len, which real tokens overwrite before anyone sees them."""
        if not self.graphs:
            return
        for b in self.buckets:
            if b not in self._graphs and self.kv_len + b <= self.width:
                self._fill(self._buffers(b), [], [], None, [])
                if self._graph(b) is None:
                    return
