"""The book: the instruments (`instruments`: SPX options, VIX options and futures), a
position of legs and its file format (`position`), and its analytics against a market
(`analytics`: leg Greeks, expiry P&L, breakevens, touch probabilities, the summary)."""

from alvh.book import analytics
from alvh.book.instruments import SpxOption, VixFuture, VixOption
from alvh.book.position import Position

__all__ = ["Position", "SpxOption", "VixFuture", "VixOption", "analytics"]
