"""A runner without a model: every step returns uniform logits.

Under teacher forcing the interpreter still makes every scheduling decision of a real run —
steps, positions, forks, syncs, waits — so step counts and layouts can be had without weights
(the UI's Learn tab). The log-probabilities it reports are meaningless (uniform).
"""

from __future__ import annotations

import torch


class NullRunner:
    def __init__(self, vocab_size: int):
        self.vocab_size = vocab_size
        self.kv_len = 0

    def reset(self) -> None:
        self.kv_len = 0

    def forward(self, ids: list[int], positions: list[int], rows: torch.Tensor,
                keep: list[int]) -> torch.Tensor:
        self.kv_len += len(ids)
        return torch.zeros(len(keep), self.vocab_size)
