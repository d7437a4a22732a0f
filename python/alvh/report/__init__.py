"""Reports: the backtest's pictures and HTML page (`backtest`), the heatmap of a threshold
sweep (`sweep`) and the interactive dashboard of a book and its backtest (`dashboard`).
matplotlib and plotly are imported on first use."""

from alvh.report.backtest import backtest_report
from alvh.report.dashboard import write_dashboard
from alvh.report.sweep import sweep_heatmap

__all__ = ["backtest_report", "sweep_heatmap", "write_dashboard"]
