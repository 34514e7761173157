"""One forward step with eager transformers and a dynamic KV cache (CPU, or GPU without graphs).

The cache holds every token once, in slot order; a step appends its tokens and attends with the
additive 4D mask the interpreter built from the shared layout, so any Hugging Face causal LM
that accepts a custom 4D attention mask works.
"""

from __future__ import annotations

import torch

from ..layout import additive_mask


def _sees_all(rows: torch.Tensor, width: int) -> bool:
    """One token that sees the whole cache needs no mask: the model's own (mask-free) path is
    what `generate()` runs, so plain decoding pays nothing for the layout. Checked on CPU only
    (a GPU tensor would cost a host sync)."""
    return rows.shape[0] == 1 and rows.device.type == "cpu" and bool(rows[0, :width].all())


class EagerRunner:
    def __init__(self, model: torch.nn.Module, device: torch.device, dtype: torch.dtype):
        self.model = model
        self.device = device
        self.dtype = dtype
        self.cache = None
        self.kv_len = 0

    def reset(self) -> None:
        self.cache = None
        self.kv_len = 0

    @torch.inference_mode()
    def forward(self, ids: list[int], positions: list[int], rows: torch.Tensor,
                keep: list[int]) -> torch.Tensor:
        """Feed `ids` at `positions` with visibility `rows` (len(ids) × ≥ kv_len+len(ids) bool).
        Returns the logits (len(keep) × vocab) at the batch indices in `keep`."""
        n = len(ids)
        width = self.kv_len + n
        mask = None if _sees_all(rows, width) else additive_mask(rows[:, :width], self.dtype)
        out = self.model(
            input_ids=torch.tensor([ids], device=self.device),
            position_ids=torch.tensor([positions], device=self.device),
            attention_mask=mask,
            past_key_values=self.cache,
            use_cache=True,
            cache_position=torch.arange(self.kv_len, width, device=self.device),
            logits_to_keep=torch.tensor(keep, dtype=torch.long, device=self.device),
        )
        self.cache = out.past_key_values
        self.kv_len = width
        return out.logits[0]
