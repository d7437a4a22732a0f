"""Shared internals of alvh, used by every layer above: argument checks with one error
factory (`checks`), the TOML reading that locates a bad field's line (`toml`), atomic
file writes (`io`), backend selection (`backend`), array-argument normalization
(`args`), shared types (`types`), plotting plumbing (`plotting`) and the kernels'
structured argument types (`kernel_inputs`).

Nothing here is public API; it imports nothing from alvh but `alvh.errors`,
`alvh._native` and `alvh._fallback`.
"""

__all__: list[str] = []
