"""Reports of backtests: the report's pictures and HTML page (`backtest`) and the heatmap
of a threshold sweep (`sweep`). matplotlib is imported on first use."""

from alvh.report.backtest import backtest_report
from alvh.report.sweep import sweep_heatmap

__all__ = ["backtest_report", "sweep_heatmap"]
