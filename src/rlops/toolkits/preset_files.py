"""Preset files: YAML named by a preset name, found in the job's code folder or among a toolkit's built-ins.

Every toolkit keeps its built-in presets in a folder of its own; a user's preset goes in
``source_dir`` as ``NAME.yaml`` or ``presets/NAME.yaml`` (or is named by its path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from rlops.exceptions import UsageError, did_you_mean


class PresetFolder:
    """A toolkit's built-in presets (``builtin``), searched after the folders a job names."""

    def __init__(self, builtin: Path):
        self.builtin = builtin

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.builtin.glob("*.yaml"))

    def find(self, name: str, search: Iterable[Path] = ()) -> Path:
        """The file of preset ``name``: a path, a file in ``search`` folders, or a built-in."""
        if name.endswith((".yaml", ".yml")) and Path(name).is_file():
            return Path(name)
        for folder in [*map(Path, search), self.builtin]:
            for candidate in (folder / f"{name}.yaml", folder / "presets" / f"{name}.yaml", folder / f"{name}.yml"):
                if candidate.is_file():
                    return candidate
        known = self.names()
        raise UsageError(f"Unknown preset {name!r}. Built-in presets: {', '.join(known)}. A preset of your own goes "
                         f"in source_dir as {name}.yaml or presets/{name}.yaml.{did_you_mean(name, known)}")

    def load(self, name: str, search: Iterable[Path] = ()) -> dict[str, Any]:
        """The preset's fields as written (with ``name`` set to the file's stem)."""
        path = self.find(name, search)
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise UsageError(f"Preset file {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"Preset file {path} must hold a mapping of fields; got {type(data).__name__}.")
        data.setdefault("name", path.stem)
        return data
