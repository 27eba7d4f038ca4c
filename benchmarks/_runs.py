"""Running benchmark cells: each one cached as JSON by a key of its settings, several in parallel processes."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

#: One cell: (cache key, function, *arguments); the function returns a JSON-serialisable dict.
Job = tuple


def config_digest(path: Path) -> str:
    """12 hex digits naming a YAML config's settings, not its text: a comment edited (say, to quote the numbers a
    run measured) keeps the cached runs of the config, a changed value does not."""
    import yaml

    settings = yaml.safe_load(Path(path).read_text())
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


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


def resumable_fit(model, data, root: str | None, callbacks: list | None = None, **settings: object) -> dict:
    """Fit ``model`` on ``data`` with a :func:`quiet_trainer`; where ``root`` is given, save ``root/last.ckpt``
    after every epoch (atomically) and resume from it, so that a run cut off (a session's end, a kill) goes on
    where it stopped instead of starting again. Returns ``seconds`` (wall-clock summed over the fit's segments,
    up to each segment's last checkpoint) and ``segments`` (how many sittings the fit took)."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    from gan_lightning.checkpoints import AtomicCheckpointIO

    clock = _fit_clock()
    callbacks = [*(callbacks or []), clock]
    last = None
    if root is not None:
        last = Path(root) / "last.ckpt"
        callbacks.append(ModelCheckpoint(dirpath=root, save_top_k=0, save_last=True, every_n_epochs=1))
        settings = {"enable_checkpointing": True, "plugins": [AtomicCheckpointIO()], **settings}
    trainer = quiet_trainer(callbacks=callbacks, **settings)
    trainer.fit(model, data, ckpt_path=str(last) if last is not None and last.is_file() else None)
    return {"seconds": clock.seconds, "segments": clock.segments}


def _fit_clock():
    """A callback timing a fit that may span several sittings: its total is kept in the checkpoint, so a resumed
    fit adds to it (imported lazily, like Lightning everywhere in this module)."""
    import lightning as L

    class FitClock(L.Callback):
        def __init__(self) -> None:
            self.seconds, self.segments = 0.0, 0

        def on_train_start(self, trainer, module) -> None:
            self.segments += 1
            self._mark = time.perf_counter()

        def _tick(self) -> None:
            now = time.perf_counter()
            self.seconds += now - self._mark
            self._mark = now

        def on_train_epoch_end(self, trainer, module) -> None:
            self._tick()  # before ModelCheckpoint's own hook: Lightning runs checkpoint callbacks last

        def on_train_end(self, trainer, module) -> None:
            self._tick()

        def state_dict(self) -> dict:
            return {"seconds": self.seconds, "segments": self.segments}

        def load_state_dict(self, state: dict) -> None:
            self.seconds, self.segments = state["seconds"], state["segments"]

    return FitClock()
