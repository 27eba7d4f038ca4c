"""Local paths and fsspec URLs side by side, for run folders, checkpoints and data.

A path with ``://`` (``s3://bucket/runs``, ``memory://r``) is a URL: it stays a string, since ``pathlib.Path``
collapses its double slash (``s3:/bucket/runs``), and it is read and written through fsspec (Lightning's
``get_filesystem``). A ``file://`` URL is a local path spelled as a URL: :func:`as_path` turns it into that
path, so it gets everything a local path gets (atomic checkpoint writes, folder checks). Anything else is a
local ``Path``.

Writers that need a local file name (matplotlib, torchvision, safetensors, ONNX) write through
:func:`writing`: a URL gets a temporary local file that is uploaded when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

#: A local path, or a URL kept as a string.
PathOrURL = str | Path


def is_url(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a URL that fsspec reads (``file://`` ones included)."""
    return "://" in os.fspath(path)


def as_path(path: str | os.PathLike) -> PathOrURL:
    """A URL as its string (``file://`` ones as the local Path they name), anything else as a Path."""
    text = os.fspath(path)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    return text if is_url(text) else Path(text)


def join(base: str | os.PathLike, *names: str) -> PathOrURL:
    """``base / name / ...``, for a URL with ``/`` (``posixpath``, which keeps the ``//`` after the scheme)."""
    base = as_path(base)
    return posixpath.join(base, *names) if isinstance(base, str) else base.joinpath(*names)


def parent(path: str | os.PathLike) -> PathOrURL:
    """The folder holding ``path`` (``s3://b/run/checkpoints`` for ``s3://b/run/checkpoints/last.ckpt``)."""
    path = as_path(path)
    if isinstance(path, Path):
        return path.parent
    scheme, rest = path.split("://", 1)
    return f"{scheme}://{posixpath.dirname(rest.rstrip('/'))}"


def with_suffix(path: str | os.PathLike, suffix: str) -> PathOrURL:
    """``path`` with its last suffix replaced by (or, without one, extended with) ``suffix``."""
    path = as_path(path)
    return posixpath.splitext(path)[0] + suffix if isinstance(path, str) else path.with_suffix(suffix)


def filesystem(url: str) -> Any:
    """The fsspec file system of ``url`` (Lightning's choice, as for its own checkpoints and logs)."""
    from lightning.fabric.utilities.cloud_io import get_filesystem

    return get_filesystem(url)


def is_file(path: str | os.PathLike) -> bool:
    path = as_path(path)
    return path.is_file() if isinstance(path, Path) else filesystem(path).isfile(path)


def open_file(path: str | os.PathLike, mode: str = "rb") -> IO:
    """``open(path, mode)``, through fsspec for a URL."""
    path = as_path(path)
    return open(path, mode) if isinstance(path, Path) else filesystem(path).open(path, mode)


def read_text(path: str | os.PathLike) -> str:
    with open_file(path, "r") as file:
        return file.read()


def makedirs(folder: str | os.PathLike) -> None:
    """Create ``folder`` and its parents if missing (object stores have no folders: usually nothing to do)."""
    folder = as_path(folder)
    if isinstance(folder, Path):
        folder.mkdir(parents=True, exist_ok=True)
    else:
        filesystem(folder).makedirs(folder, exist_ok=True)


def local_data_dir(path: str | os.PathLike, reader: str) -> Path:
    """``data.data_dir`` of a reader of local files only; a remote URL is refused in one line."""
    path = as_path(path)
    if isinstance(path, str):
        raise ValueError(
            f"data.data_dir {path!r} is a URL, but {reader} reads local folders only: copy the data to a local "
            "folder or mount the bucket (e.g. with s3fs or gcsfuse) and pass its local path"
        )
    return path


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[Path]:
    """A local file name to write ``path`` under: ``path`` itself (its folder created), or, for a URL, a
    temporary file of the same name that is uploaded to ``path`` when the block ends without an error."""
    path = as_path(path)
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="gan-lightning-") as folder:
        local = Path(folder) / posixpath.basename(path)
        yield local
        makedirs(parent(path))
        filesystem(path).put_file(str(local), path)


@contextlib.contextmanager
def reading(path: str | os.PathLike) -> Iterator[Path]:
    """A local file name to read ``path`` from: ``path`` itself, or, for a URL, a temporary local copy."""
    path = as_path(path)
    if isinstance(path, Path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="gan-lightning-") as folder:
        local = Path(folder) / posixpath.basename(path)
        filesystem(path).get_file(path, str(local))
        yield local
