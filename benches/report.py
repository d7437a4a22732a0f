"""Turn a pytest-benchmark JSON file into benches/BENCHMARKS.md.

    python benches/report.py benches/results.json -o benches/BENCHMARKS.md

Everything in the document that is a measurement comes from the JSON (timings,
accuracy, versions, CPU, ``alvh.build_info()``, skipped implementations and why);
only the fixed prose (method, how to rerun) lives here. Throughput is options per
second from the *median* round (robust to a noisy neighbour on shared machines).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import OrderedDict
from pathlib import Path

RERUN = (
    "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PIP_NO_BINARY=opengreeks sh -c "
    '\'pip install ".[bench]" && pytest benches --benchmark-only '
    "--benchmark-json=benches/results.json && "
    "python benches/report.py benches/results.json -o benches/BENCHMARKS.md'"
)

GROUPS = OrderedDict(
    [
        ("price", "Price only, fresh output array"),
        ("price_out", "Price only, into a caller-provided buffer (`out=`)"),
        ("greeks", "Price and Greeks, fresh output arrays"),
        ("greeks_out", "All nine outputs into caller-provided buffers (`out=Greeks.empty(n)`)"),
        ("implied_vol", "Implied volatility"),
    ]
)

NATIVE = "alvh native"
FALLBACK = "alvh fallback (numpy)"


def rate(bench: dict) -> float:
    return bench["extra_info"]["options"] / bench["stats"]["median"]


def best_rate(bench: dict) -> float:
    return bench["extra_info"]["options"] / bench["stats"]["min"]


def per_second(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.3g} M/s"
    return f"{value / 1e3:.3g} k/s"


def sci(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == 0:
        return "0"
    return f"{value:.1e}"


def ratio(value: float, reference: float | None) -> str:
    if not reference:
        return "-"
    r = value / reference
    return f"{r:.3g}x"


def count(value: int | None, of: int | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if of is None else f"{value:,} / {of:,}"


def _by_group(benchmarks: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {name: [] for name in GROUPS}
    for bench in benchmarks:
        groups.setdefault(bench["group"], []).append(bench)
    for rows in groups.values():
        rows.sort(key=rate, reverse=True)
    return groups


def _find(rows: list[dict], name: str) -> dict | None:
    return next((b for b in rows if b["extra_info"]["implementation"] == name), None)


def _outputs(names: list[str]) -> str:
    return f"{len(names)}: " + ", ".join(names)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _loads(values: list[float] | None) -> str:
    return "/".join(f"{v:.2f}" for v in values) if values else "-"


def _version(bench: dict) -> str:
    return bench["extra_info"].get("version") or "-"


def pricing_table(rows: list[dict], native: dict | None, with_outputs: bool) -> list[str]:
    header = [
        "implementation",
        "version",
        "options timed",
        "median",
        "options/s",
        "speed vs alvh native",
        "max rel. diff vs alvh (worst output)",
    ]
    if with_outputs:
        header.insert(3, "outputs")
    body = []
    for bench in rows:
        info = bench["extra_info"]
        diff = sci(info.get("max_rel_diff"))
        if info.get("worst_output") and info.get("max_rel_diff"):
            diff += f" ({info['worst_output']})"
        if info.get("nan_count"):
            diff += f", {info['nan_count']:,} NaN"
        row = [
            info["implementation"],
            _version(bench),
            f"{info['options']:,}",
            f"{bench['stats']['median'] * 1e3:.3g} ms",
            per_second(rate(bench)),
            ratio(rate(bench), rate(native) if native else None),
            diff,
        ]
        if with_outputs:
            row.insert(3, _outputs(info["outputs"]))
        body.append(row)
    return _table(header, body)


def out_table(rows: list[dict], native_fresh: dict | None) -> list[str]:
    native = _find(rows, NATIVE)
    header = [
        "implementation",
        "options",
        "median",
        "options/s",
        "speed vs alvh native out=",
        "speed vs alvh native fresh outputs",
        "max rel. diff vs alvh",
    ]
    body = []
    for bench in rows:
        info = bench["extra_info"]
        body.append(
            [
                info["implementation"],
                f"{info['options']:,}",
                f"{bench['stats']['median'] * 1e3:.3g} ms",
                per_second(rate(bench)),
                ratio(rate(bench), rate(native) if native else None),
                ratio(rate(bench), rate(native_fresh) if native_fresh else None),
                sci(info.get("max_rel_diff")),
            ]
        )
    return _table(header, body)


def implied_vol_table(rows: list[dict], native: dict | None) -> list[str]:
    header = [
        "implementation",
        "version",
        "options timed",
        "median",
        "options/s",
        "speed vs alvh native",
        "max abs(sigma - sigma_true), vega > 0.01",
        "wrong vols (> 1e-6), vega > 0.01",
        "failures on solvable prices",
        "NaN / failed, all",
        "max repricing error",
    ]
    body = []
    for bench in rows:
        info = bench["extra_info"]
        solvable = info["options"] - info.get("iv_unsolvable", 0)
        body.append(
            [
                info["implementation"],
                _version(bench),
                f"{info['options']:,}",
                f"{bench['stats']['median'] * 1e3:.3g} ms",
                per_second(rate(bench)),
                ratio(rate(bench), rate(native) if native else None),
                sci(info.get("iv_max_abs_error")),
                count(info.get("iv_wrong_well_conditioned"), info.get("iv_well_conditioned")),
                count(info.get("iv_failures_solvable"), solvable),
                count(info.get("iv_failures")),
                sci(info.get("iv_max_reprice_error")),
            ]
        )
    return _table(header, body)


def targets(groups: dict[str, list[dict]]) -> list[str]:
    """Issue 2's performance and implied-vol targets against this run."""

    def native_rate(group: str) -> float | None:
        bench = _find(groups.get(group, []), NATIVE)
        return rate(bench) if bench else None

    def native_best(group: str) -> str:
        bench = _find(groups.get(group, []), NATIVE)
        return f" (best round {per_second(best_rate(bench))})" if bench else ""

    def check(ok: bool | None) -> str:
        return "-" if ok is None else ("yes" if ok else "**no**")

    rows = []
    for group, threshold, label in (
        ("greeks_out", 100e6, "all nine outputs into `out=` >= 100 M options/s"),
        ("greeks", 40e6, "all nine outputs, fresh arrays >= 40 M options/s"),
        ("price_out", 150e6, "price only into `out=` >= 150 M options/s"),
        ("implied_vol", 10e6, "implied vol >= 10 M options/s"),
    ):
        value = native_rate(group)
        rows.append(
            [
                label,
                per_second(value) + native_best(group),
                check(None if value is None else value >= threshold),
            ]
        )

    # Like for like: both backends with fresh outputs, and both writing into out=
    # buffers (fresh outputs cost the native kernel as much in page faults as in
    # arithmetic, which the fallback's numpy temporaries hide).
    for group, label in (("greeks", "fresh outputs"), ("greeks_out", "into `out=` buffers")):
        fallback = _find(groups.get(group, []), FALLBACK)
        native = native_rate(group)
        target = f"native >= 10x the fallback, all Greeks, {label}"
        if fallback and native:
            speedup = native / rate(fallback)
            rows.append([target, f"{speedup:.3g}x", check(speedup >= 10)])
        else:
            rows.append([target, "fallback not measured", "-"])

    for group in ("price", "greeks", "implied_vol"):
        native = native_rate(group)
        peers = [
            b
            for b in groups.get(group, [])
            if not b["extra_info"]["implementation"].startswith("alvh")
            and b["extra_info"]["implementation"] != "numpy+scipy reference"
        ]
        if native and peers:
            fastest = max(peers, key=rate)
            name = fastest["extra_info"]["implementation"]
            rows.append(
                [
                    f"faster than every peer: {group}",
                    f"{native / rate(fastest):.3g}x the fastest ({name})",
                    check(native > rate(fastest)),
                ]
            )

    iv = _find(groups.get("implied_vol", []), NATIVE)
    if iv:
        info = iv["extra_info"]
        rows.append(
            [
                "IV: max abs(sigma - sigma_true) <= 1e-10 where vega > 0.01",
                sci(info.get("iv_max_abs_error")),
                check((info.get("iv_max_abs_error") or 0) <= 1e-10),
            ]
        )
        reprice = info.get("iv_max_reprice_error")
        rows.append(
            [
                "IV: every vol reprices within 1e-12 of S e^-qT + K e^-rT",
                sci(reprice),
                check((reprice or 0) <= 1e-12),
            ]
        )
        rows.append(
            [
                "IV: no failure on any valid price",
                count(info.get("iv_failures_solvable")),
                check(info.get("iv_failures_solvable") == 0),
            ]
        )
    return _table(["target (issue 2)", "measured", "met"], rows)


def _timing_section(rows: list[dict], title: str, intro: str, scale: float, unit: str) -> list[str]:
    """A section with a median / best-round table of ``rows`` (none: no section)."""
    if not rows:
        return []
    digits = 1 if unit == "ms" else 2
    table = [
        [
            b["extra_info"]["implementation"],
            f"{b['stats']['median'] * scale:.{digits}f} {unit}",
            f"{b['stats']['min'] * scale:.{digits}f} {unit}",
        ]
        for b in rows
    ]
    return [f"## {title}", "", intro, "", *_table(["implementation", "median", "best round"], table), ""]


def render(data: dict) -> str:
    machine = data["machine_info"]
    alvh = machine.get("alvh", {})
    groups = _by_group(data["benchmarks"])
    options = alvh.get("options")
    lines = [
        "# alvh benchmarks",
        "",
        "<!-- Generated by benches/report.py from benches/results.json; edit those, not this file. -->",
        "",
        f"{options:,} SPX-like European options (benches/dataset.py): S = 4500, K ~ U[3000, 6000], "
        "T ~ U[1/365, 1], vol ~ U[0.08, 0.80], r = 0.04, q = 0.015, half calls, "
        f"`numpy.random.default_rng({alvh.get('seed')})`; implied-vol inputs are alvh native prices "
        "at the drawn vols.",
        "",
        "Rerun everything (from the repository root; `PIP_NO_BINARY=opengreeks` because its "
        "PyPI wheels do not import on Python < 3.12, see its notes below; a Rust toolchain is needed "
        "for alvh and opengreeks):",
        "",
        "```bash",
        RERUN,
        "```",
        "",
        f"Run of {data.get('datetime', '?')}.",
        "",
        "## Machine",
        "",
        f"- CPU: {alvh.get('cpu_model')} ({alvh.get('cpu_family_model')}) - {alvh.get('cpus')} CPUs "
        f"({alvh.get('sockets')} socket x "
        f"{alvh.get('cores_per_socket')} cores x {alvh.get('threads_per_core')} thread), "
        f"{alvh.get('usable_cpus')} usable; SIMD: {', '.join(alvh.get('simd_flags', []))}",
        f"- Python {alvh.get('python')} on {alvh.get('platform')}",
        f"- `alvh.build_info()` (alvh {alvh.get('alvh_version')}): "
        f"`{json.dumps(alvh.get('alvh_build_info'))}`",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in alvh.get("versions", {}).items() if v),
        f"- Load average (1, 5, 15 min) at start: {_loads(alvh.get('load_average_start'))}, at end: "
        f"{_loads(alvh.get('load_average_end'))} on {alvh.get('usable_cpus')} CPUs (a load well above "
        "0 means other processes shared the CPUs during the run: the timings are then pessimistic "
        "and noisy)",
        "- Environment: "
        + ", ".join(f"{k}={'unset' if v is None else v}" for k, v in alvh.get("environment", {}).items())
        + ". `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` are unset for the run: on these machines "
        "they slow numpy down, which would flatter alvh against every numpy-based implementation.",
        "",
        "## Method",
        "",
        "- pytest-benchmark, pedantic mode, one call per round. Each implementation is called once "
        "untimed first (JIT compilation, lazy imports, page faults of reused buffers), and the number "
        "of rounds is set from that call (about 2 s per benchmark, 3 to 200 rounds). "
        "Throughput = options / median round time; the targets table also gives the best round.",
        "- Each implementation is used through its public vectorized API with the inputs it needs "
        "prepared **outside** the timing (flags split into calls and puts for APIs that take one flag "
        "per call, full arrays where scalars are not broadcast, forwards / discount factors / "
        "dividend-adjusted spot where the API has no dividend yield); alvh gets its plain arguments "
        "(scalars broadcast). This favours the peers.",
        "- Python loops (QuantLib) are timed on a prefix of the data set (see 'options timed') "
        "and reported per option.",
        "- Every result is converted to alvh's units (vega per 1.00 of vol, theta per year of calendar "
        "time, rho per 1.00 of rate, charm = d(delta)/dt per year, Greeks w.r.t. the spot) and "
        "compared with alvh native on the same options: max |x - x_alvh| / max(|x_alvh|, 1e-6 x "
        "scale), scale = S for price, vega, theta, rho, volga; 1 for delta, vanna, charm; 1/S for "
        "gamma. Conversions per peer are listed below.",
        "- Implied vol is checked against the vols the prices came from: max |sigma - sigma_true| "
        "where vega > 0.01 (per 1.00 of vol), wrong vols (off by > 1e-6) there, failures (NaN, inf, "
        "<= 0) on solvable prices - inside the no-arbitrage bounds by more than their rounding, "
        "4 ulp of S e^-qT + K e^-rT (closer than that a price carries no vol information and NaN "
        "is right) - and the worst repricing error |price(sigma) - price| / (S e^-qT + K e^-rT), "
        "repriced by alvh.",
        "- 'speed vs alvh native' is this throughput divided by alvh native's on the same task "
        "(0.1x = alvh is ten times faster).",
        "",
        "## Targets of issue 2",
        "",
        *targets(groups),
        "",
    ]
    native_fresh = {g: _find(groups.get(g, []), NATIVE) for g in ("price", "greeks")}
    for group, title in GROUPS.items():
        rows = groups.get(group, [])
        lines += [f"## {title} (`{group}`)", ""]
        if not rows:
            lines += ["(not measured in this run)", ""]
            continue
        if group == "implied_vol":
            lines += implied_vol_table(rows, _find(rows, NATIVE))
        elif group.endswith("_out"):
            lines += out_table(rows, native_fresh[group.removesuffix("_out")])
        else:
            lines += pricing_table(rows, _find(rows, NATIVE), with_outputs=(group == "greeks"))
        lines.append("")

    grid_rows = groups.get("scenario_grid", [])
    if grid_rows:
        lines += [
            "## Scenario grid, kernel (`scenario_grid`, issue 3)",
            "",
            "8 legs (condor, put spread, VIX call, VIX future) x 201 SPX moves x 41 VIX shifts x "
            "11 days = 725,868 leg valuations with Greeks, sticky-moneyness smile per cell "
            "(benches/test_bench_grid.py); 'end to end' rows: `alvh.scenario_grid` on the 7-leg "
            "examples/condor_put_spread_hedge.toml with examples/market_2025-02-03.toml, scenario "
            "markets resolved included. Targets: native <= 10 ms, >= 20x the fallback.",
            "",
        ]
        native = _find(grid_rows, NATIVE)
        table = []
        for bench in grid_rows:
            median = bench["stats"]["median"]
            ratio = f"{median / native['stats']['median']:.3g}x" if native else "-"
            table.append(
                [
                    bench["extra_info"]["implementation"],
                    f"{median * 1e3:.2f} ms",
                    f"{bench['stats']['min'] * 1e3:.2f} ms",
                    ratio,
                ]
            )
        lines += _table(["implementation", "median", "best round", "time vs alvh native"], table)
        lines.append("")

    projection_rows = groups.get("projection", [])
    if projection_rows:
        lines += [
            "## Projection (`alvh.project`, issue 4)",
            "",
            "100,000 paths x 10 days x 12 scenarios (gdp_x_earnings) for an 8-leg book (condor, "
            "two VIX calls, a VIX future, an SPX put): 96 M leg valuations, end to end through "
            "`alvh.project` (benches/test_bench_projection.py). Targets: native <= 1.5 s on 2 "
            "cores, >= 20x the fallback.",
            "",
        ]
        native = next(
            (b for b in projection_rows if b["extra_info"]["implementation"].startswith(NATIVE)), None
        )
        table = []
        for bench in projection_rows:
            median = bench["stats"]["median"]
            ratio = f"{median / native['stats']['median']:.3g}x" if native else "-"
            table.append(
                [
                    bench["extra_info"]["implementation"],
                    f"{median:.3f} s",
                    f"{bench['stats']['min']:.3f} s",
                    ratio,
                    per_second(bench["extra_info"]["options"] / median),
                ]
            )
        lines += _table(
            ["implementation", "median", "best round", "time vs alvh native", "leg valuations/s"], table
        )
        lines.append("")

    lines += _timing_section(
        groups.get("decide", []),
        "Policy decision (`Policy.decide`, issue 5)",
        "One day's decision with the time-shift check and two sized candidates, each "
        "projected with 2,000 paths x 10 days x 12 scenarios, the book valued at the "
        "horizon (`horizon_statistics`) (benches/test_bench_decide.py). Target: <= 200 ms on 2 cores.",
        1e3,
        "ms",
    )
    lines += _timing_section(
        groups.get("backtest", []),
        "Backtest (`alvh.backtesting.daily.replay`, issues 6 and 13)",
        "The condor schedule over the bundled 2000-01-03..2022-11-08 SPX/VIX history "
        "(5,750 days, each at its 3-month bill rate), without a policy and under `early` "
        "(its decisions with their projections, T+0/T+10 break-evens and CVaR-sized "
        "candidates included; diagnostics fed the sample's breadth proxy, core CPI and term "
        "spread as in `alvh demo`), in a fresh process's caches "
        "(benches/test_bench_backtest.py). Target (issue 13): one policy, 23 years, "
        "projection check on: <= 15 s on 2 cores.",
        1.0,
        "s",
    )

    lines += _timing_section(
        groups.get("demo", []),
        "The demo (`alvh demo`, issues 6, 13 and 15)",
        "The example condor's Greeks, the four 2000-2022 replays (none, early, patient, vxth; in "
        "two processes), the episode and calm-year tables, the verdict and the drawdown answer "
        "with their bootstrap intervals, the CNDR reference book and the report "
        "(benches/test_bench_demo.py). Target (issue 15): <= 60 s.",
        1.0,
        "s",
    )

    skipped = data.get("alvh_skipped", [])
    lines += ["## Not measured", ""]
    if skipped:
        reasons: OrderedDict[str, list[str]] = OrderedDict()
        for item in skipped:
            task = item["test"].split("[")[0].removeprefix("test_")
            reasons.setdefault(item["reason"], []).append(task)
        for reason, tasks in reasons.items():
            lines.append(f"- {reason} ({', '.join(tasks)})")
    else:
        lines.append("- nothing was skipped")
    lines.append("")

    notes = alvh.get("notes", {})
    if notes:
        lines += ["## How each implementation was called and converted", ""]
        for name, note in notes.items():
            lines.append(f"- **{name}**: {note}.")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="pytest-benchmark JSON (--benchmark-json)")
    parser.add_argument("-o", "--output", type=Path, help="write the markdown here (default: stdout)")
    args = parser.parse_args(argv)
    text = render(json.loads(args.results.read_text()))
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
