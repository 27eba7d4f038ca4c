"""Running benchmark cells: each one cached as JSON by a key of its settings, several in parallel processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

#: One cell: (cache key, function, *arguments); the function returns a JSON-serialisable dict.
Job = tuple


def run_cached(cache: Path, key: str, function: Callable, *args: object) -> dict:
    """Run one cell, or read it back from ``cache`` when the same settings were already run."""
    path = cache / f"{key}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            print(f"{path}: unreadable cached cell (an interrupted write?); running it again", flush=True)
    result = function(*args)
    # Write then rename: a run killed mid-write leaves no half-written cell behind.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(result))
    partial.replace(path)
    return result


def run_jobs(cache: Path, jobs: list[Job], processes: int) -> list[dict]:
    """Every job's result, in order; ``processes`` > 1 runs them side by side (spawned: safe with CUDA)."""
    cache.mkdir(parents=True, exist_ok=True)
    if processes <= 1:
        return [run_cached(cache, key, fn, *args) for key, fn, *args in jobs]
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_cached, cache, key, fn, *args) for key, fn, *args in jobs]
        return [f.result() for f in futures]


def quiet_trainer(**settings: object):
    """A Lightning Trainer for a benchmark run on one device: no logger, checkpoints, progress bar or model
    summary (none is measured, and each would cost time or write files); ``settings`` add to or override these."""
    import lightning as L

    return L.Trainer(
        **{
            "devices": 1,
            "logger": False,
            "enable_checkpointing": False,
            "enable_progress_bar": False,
            "enable_model_summary": False,
            **settings,
        }
    )
