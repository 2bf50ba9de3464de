"""Layer classes from a ``.keras`` archive's config.json, read as data with size and member checks."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from grader.graph_rules import LayerRef

MAX_CONFIG_BYTES = 5_000_000
MAX_MEMBERS = 64
CONTAINERS = {"Sequential", "Functional", "Model"}


class UnsafeArchiveError(Exception):
    pass


def read_config(path: Path) -> dict[str, Any]:
    """The archive's config.json, refusing links, absolute or ``..`` members and oversized entries."""
    if path.is_symlink() or not path.is_file():
        raise UnsafeArchiveError(f"{path.name} is not a regular file")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise UnsafeArchiveError(f"{len(infos)} members in the model archive")
        for info in infos:
            if info.filename.startswith("/") or ".." in Path(info.filename).parts:
                raise UnsafeArchiveError(f"unsafe member name {info.filename!r}")
        info = archive.getinfo("config.json")
        if info.file_size > MAX_CONFIG_BYTES:
            raise UnsafeArchiveError(f"config.json declares {info.file_size} bytes")
        with archive.open(info) as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise UnsafeArchiveError("config.json is larger than declared")
    config = json.loads(data)
    if not isinstance(config, dict):
        raise UnsafeArchiveError("config.json is not an object")
    return config


def _is_builtin(entry: dict[str, Any]) -> bool:
    module = str(entry.get("module") or "")
    # Custom classes carry their own module (e.g. "__main__") or a registered name such as "Custom>MyLayer".
    return module.startswith("keras") and ">" not in str(entry.get("registered_name") or "")


def layer_refs(config: dict[str, Any]) -> list[LayerRef] | None:
    """Every layer (nested models flattened) with its name and whether Keras' own code computes it; None for a
    subclassed model, whose config lists no layers."""
    refs: list[LayerRef] = []

    def walk(entry: dict[str, Any]) -> None:
        for layer in (entry.get("config") or {}).get("layers") or []:
            if not isinstance(layer, dict):
                continue
            name = str(layer.get("class_name", "?"))
            if name in CONTAINERS:
                walk(layer)
                continue
            if name == "InputLayer":
                continue
            layer_name = str((layer.get("config") or {}).get("name") or layer.get("name") or name)
            refs.append(LayerRef(layer_name, name, verifiable=name != "Lambda" and _is_builtin(layer)))

    if config.get("class_name") not in CONTAINERS or not _is_builtin(config):
        return None
    walk(config)
    return refs
