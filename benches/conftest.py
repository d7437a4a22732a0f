"""Shared fixtures and reporting hooks of the alvh benchmarks (pytest-benchmark).

- ``spx_options``: the data set of issue 2 (benches/dataset.py): 1,000,000 SPX-like
  options, fixed seed, prices by alvh native. ``ALVH_BENCH_OPTIONS=20000`` shrinks it
  for a quick smoke run (the numbers are then not the ones to publish).
- ``alvh_truth``: alvh native's price and eight Greeks on the whole set, which every
  other implementation is compared with.
- Hooks write into the benchmark JSON what benches/report.py needs to build
  BENCHMARKS.md: the CPU (``lscpu``), package versions, ``alvh.build_info()``, the
  BLAS-related environment, each implementation's notes, and every skipped
  implementation with its reason.

Benchmarks are not part of the default test run (pyproject's testpaths is
``tests``); run them with ``pytest benches --benchmark-only``.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from dataset import OPTIONS, SEED, make_spx_options

_SKIPPED: list[dict[str, str]] = []
_LOAD_AT_START: list[float] = []


def _option_count() -> int:
    return int(os.environ.get("ALVH_BENCH_OPTIONS", OPTIONS))


def pytest_sessionstart(session):
    if hasattr(os, "getloadavg"):
        _LOAD_AT_START.extend(os.getloadavg())


@pytest.fixture(scope="session")
def spx_options():
    return make_spx_options(_option_count(), SEED)


@pytest.fixture(scope="session")
def alvh_truth(spx_options) -> dict[str, np.ndarray]:
    import alvh

    with alvh.use_backend("native"):
        greeks = alvh.bsm.greeks(**spx_options.alvh_kwargs())
    return {name: getattr(greeks, name) for name in alvh.pricing.greeks.NAMES}


def _lscpu() -> dict[str, str]:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def pytest_benchmark_update_machine_info(config, machine_info):
    import alvh
    from implementations import IMPLEMENTATIONS, PEER_DISTRIBUTIONS, distribution_version

    cpu = _lscpu()
    flags = cpu.get("Flags", "").split()
    machine_info["alvh"] = {
        "cpu_model": cpu.get("Model name"),
        "cpu_family_model": f"family {cpu.get('CPU family')}, model {cpu.get('Model')}",
        "cpus": cpu.get("CPU(s)"),
        "cores_per_socket": cpu.get("Core(s) per socket"),
        "sockets": cpu.get("Socket(s)"),
        "threads_per_core": cpu.get("Thread(s) per core"),
        "usable_cpus": (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "simd_flags": [f for f in ("avx2", "fma", "avx512f") if f in flags],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "alvh_version": alvh.__version__,
        "alvh_build_info": alvh.build_info(),
        "versions": {name: distribution_version(name) for name in PEER_DISTRIBUTIONS},
        "environment": {
            name: os.environ.get(name)
            for name in (
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
                "OMP_NUM_THREADS",
                "RAYON_NUM_THREADS",
                "NUMBA_NUM_THREADS",
                "POLARS_MAX_THREADS",
            )
        },
        # Load average (1, 5, 15 min) before the run (and after it: see below); well
        # above 0 means other processes shared the CPUs while the benchmarks ran.
        "load_average_start": _LOAD_AT_START or None,
        "options": _option_count(),
        "seed": SEED,
        "notes": {impl.name: impl.notes for impl in IMPLEMENTATIONS if impl.notes},
    }


def pytest_runtest_logreport(report):
    if report.skipped and report.when in ("setup", "call"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append(
            {
                "test": report.nodeid.split("::")[-1],
                "reason": reason.removeprefix("Skipped: "),
            }
        )


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["alvh_skipped"] = list(_SKIPPED)
    if hasattr(os, "getloadavg"):  # written when the run is over
        output_json["machine_info"].setdefault("alvh", {})["load_average_end"] = list(os.getloadavg())
