"""Pricing: the batch dispatch behind `alvh.bsm` and `alvh.black76` (`dispatch`: argument
normalization, the backend's kernel, ``out=`` and ``errors=``) and the `Greeks` result
type (`greeks`). The public pricing modules stay `alvh.bsm` and `alvh.black76`."""

from alvh.pricing.greeks import Greeks

__all__ = ["Greeks"]
