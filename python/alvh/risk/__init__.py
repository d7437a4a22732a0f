"""Risk of a book over scenarios: the scenario grid of P&L and Greeks over SPX move x VIX
shift x days (`grid`), the scenario sets for projections (`scenarios`, calibrated by
`calibrate`), the Monte Carlo time-shifted projection (`projection`) and their pictures
(`plots`: the risk graph and the projection fan; matplotlib on first use)."""

from alvh.risk import scenarios
from alvh.risk.grid import Grid, scenario_grid
from alvh.risk.projection import Projection, horizon_statistics, project
from alvh.risk.scenarios import Event, Scenario, ScenarioSet

__all__ = [
    "Event",
    "Grid",
    "Projection",
    "Scenario",
    "ScenarioSet",
    "horizon_statistics",
    "project",
    "scenario_grid",
    "scenarios",
]
