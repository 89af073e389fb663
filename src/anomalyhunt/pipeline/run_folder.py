"""A run folder that is whole or absent.

A run writes into a hidden sibling `.NAME.partial-PID` and renames it to NAME only when everything is written;
a failed run removes its partial folder, and a killed one leaves only that hidden folder, which the next run
into the same place removes (its process is gone). An existing NAME is refused unless `overwrite`, which replaces
it whole: the old folder is moved aside, the new one renamed into place, then the old one deleted.

`overwrite` only ever replaces a folder this tool wrote as a run folder (it carries the marker file
`.anomalyhunt-run`; folders of earlier versions are known by their provenance.json and config.json) or an empty
one, never a dataset or anything else; and the run folder may not be, contain or lie inside any of the run's
inputs (`inputs`), so that no run can delete what it reads.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import TracebackType

from ..events.io import MANIFEST, check_apart
from ..exceptions import ConfigError

__all__ = ["RunFolder", "MARKER", "is_run_folder"]

MARKER = ".anomalyhunt-run"


def is_run_folder(path: Path) -> bool:
    """Whether `path` is a folder that a run of this tool wrote (and so may be replaced by --overwrite)."""
    if (path / MARKER).is_file():
        return True
    # run folders written before the marker existed: their provenance and config, and no dataset inside
    return ((path / "provenance.json").is_file() and (path / "config.json").is_file()
            and not any(path.rglob(MANIFEST)))

log = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunFolder:
    """Context manager: `with RunFolder(out, overwrite=False) as folder:` write into `folder` (a Path); on a
    clean exit it becomes `out`, on an exception it is removed."""

    def __init__(self, out: str | os.PathLike, *, overwrite: bool = False,
                 inputs: tuple[str | os.PathLike, ...] | list = ()):
        self.out = Path(out)
        self.overwrite = overwrite
        self.inputs = tuple(inputs)
        self.partial = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        self._old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
        self.check()

    def check(self) -> None:
        """Refuse an output that is a file, an existing run without `overwrite`, or one being written now."""
        if self.out.name in ("", ".", ".."):
            raise ConfigError(f"--out {self.out}: name a folder for the run")
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"--out {self.out}: a file of that name exists; choose a folder name")
        check_apart(self.out, list(self.inputs))
        if self.out.exists() and not self.overwrite:
            raise ConfigError(f"--out {self.out}: the folder exists; choose another or pass --overwrite to replace "
                              "it whole")
        if self.out.is_dir() and any(self.out.iterdir()) and not is_run_folder(self.out):
            what = "an event dataset" if (self.out / MANIFEST).exists() else "not a run folder of anomalyhunt"
            raise ConfigError(f"--out {self.out}: the folder is {what}; --overwrite only replaces run folders, "
                              "choose another --out")
        for parent in (self.out.parent, *self.out.parent.parents):
            if parent.exists():
                if not parent.is_dir():
                    raise ConfigError(f"--out {self.out}: {parent} is a file, not a folder")
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise ConfigError(f"--out {self.out}: {parent} is not writable")
                break
        for sibling in self._siblings():
            pid = int(sibling.name.rsplit("-", 1)[1])
            if pid != os.getpid() and _alive(pid):
                raise ConfigError(f"--out {self.out}: another run (process {pid}) is writing it now")

    def _siblings(self) -> list[Path]:
        if not self.out.parent.exists():
            return []
        found = []
        for pattern in (f".{self.out.name}.partial-*", f".{self.out.name}.old-*"):
            found += [p for p in self.out.parent.glob(pattern) if p.name.rsplit("-", 1)[1].isdigit()]
        return found

    def __enter__(self) -> Path:
        for stale in self._siblings():  # left by a killed run
            log.info("removing %s, left by an interrupted run", stale)
            shutil.rmtree(stale, ignore_errors=True)
        self.partial.mkdir(parents=True)
        (self.partial / MARKER).write_text('{"written_by": "anomalyhunt run"}\n')
        (self.partial / "plots").mkdir()
        return self.partial

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            shutil.rmtree(self.partial, ignore_errors=True)
            return
        try:
            if self.out.exists():
                if not self.overwrite:  # appeared while we ran
                    raise ConfigError(f"--out {self.out}: the folder appeared while the run was going; the result "
                                      f"is kept in {self.partial}")
                os.replace(self.out, self._old)
            os.replace(self.partial, self.out)
        finally:
            shutil.rmtree(self._old, ignore_errors=True)
