"""Run folders that survive faults and cannot be escaped.

- :func:`gate`: THE folder gate. Every file or folder the project creates or writes inside a
  run, sweep, admissible or recipe folder is checked by it first: the final component must not
  be a symbolic link (and is opened with ``O_NOFOLLOW``), and its parent, symlinks resolved,
  must lie inside the folder. :func:`open_gated`, :func:`make_folder`, :func:`atomic_path`,
  :class:`FolderLock` and the store (:class:`~autophagy.storage.store.RunStore`) all go through it.
- :func:`refuse_own_file`: an ``--output`` that resolves onto a folder's own files
  (``results.sqlite``, ``config.json``, ``sweep.json``, ``.lock``...) is refused (exit 2).
- :func:`atomic_write_text` / :func:`atomic_path`: a manifest or report is written to a
  temporary file in the same folder, fsynced, then renamed over the target, so a reader (or a
  process killed at any instruction) sees the old file or the new one, never a torn one.
- :class:`FolderLock`: an exclusive advisory lock (``fcntl.flock`` on ``.lock`` in the
  folder) held while a run or sweep writes; a second process on the same folder stops at once
  with the holder's pid. The kernel drops the lock when its holder dies, SIGKILL included.
- :func:`safe_name`: a file name built from data (a metric name, a sweep key) that cannot
  leave its folder or clash with another.
- :func:`check_output_folder`: ``--out`` checked before any work (not a file, inside a
  folder that exists and can be written, no file where ``plots/`` goes).
- :func:`inside`: whether a path (after resolving symlinks) is a regular file inside a folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from autophagy.core.errors import ConfigError, EnvironmentFault

LOCK_FILE = ".lock"
MAX_NAME = 100  # characters of a file name derived from data (well under the 255-byte limit)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


OWN_FILES = frozenset(
    {
        "config.json",
        "sweep.json",
        "results.sqlite",
        "results.sqlite-wal",
        "results.sqlite-shm",
        "results.sqlite-journal",
        LOCK_FILE,
        "admissible.json",
        "phase.json",
    }
)
"""Names of the files that make a folder resumable: never the target of an ``--output``."""


def _link_error(path: Path, what: str) -> ConfigError:
    return ConfigError(
        str(path), f"{what}; autophagy writes only real files inside the folder (remove it, or use another)"
    )


def gate(folder: Path, path: Path) -> Path:
    """The one check before anything is created or written at ``path`` inside ``folder``: the
    final component is not a symbolic link, and the parent, symlinks resolved, is ``folder`` or
    inside it. Returns ``path`` made absolute (its parent resolved). Raises :class:`ConfigError`
    (exit 2) naming the path otherwise; the caller opens with ``O_NOFOLLOW`` (:func:`open_gated`)
    or renames onto it (a rename replaces a link, never follows it)."""
    folder, path = Path(folder), Path(path)
    if path.is_symlink():
        raise _link_error(path, "is a symbolic link")
    root = folder.resolve()
    parent = path.parent.resolve()
    if not parent.is_relative_to(root):
        raise _link_error(path, f"resolves outside {folder} (to {parent})")
    target = parent / path.name
    if target.is_symlink():  # pragma: no cover - the parent changed between the two looks
        raise _link_error(path, "is a symbolic link")
    return target


def open_gated(folder: Path, path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` of ``path`` inside ``folder`` through :func:`gate`, with ``O_NOFOLLOW``; a link
    planted between the check and the open fails the open (``ELOOP``), which is refused too."""
    target = gate(folder, path)
    try:
        return os.open(target, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_error(path, "is a symbolic link") from None
        raise


def make_folder(folder: Path, path: Path | None = None) -> Path:
    """Create ``path`` (default: ``folder`` itself) and its parents inside ``folder``, each
    through :func:`gate`: a ``plots/`` that is a link, or a file in its place, is refused."""
    folder = Path(folder)
    path = Path(path) if path is not None else folder
    folder.mkdir(parents=True, exist_ok=True)  # the folder itself is the user's to name
    if path == folder:
        return folder
    missing = []
    step = path
    while step != folder and step != step.parent:
        missing.append(step)
        step = step.parent
    for step in reversed(missing):
        target = gate(folder, step)
        if step.exists() and not step.is_dir():
            raise ConfigError(str(step), "is a file where a folder goes (move the file away)")
        target.mkdir(exist_ok=True)
    return path


def refuse_own_file(option: str, output: Path) -> Path:
    """Refuse (exit 2, naming ``option``) an output file that resolves onto a run, sweep or map
    folder's own files (see :data:`OWN_FILES`), or onto a folder: writing it would destroy the
    folder or make it unresumable. The one check every ``--output`` goes through."""
    output = Path(output)
    resolved = output.resolve()
    if resolved.is_dir():
        raise ConfigError(option, f"{output} is a folder; give a file name")
    if resolved.name in OWN_FILES:
        raise ConfigError(option, f"{output} is a folder's own file ({resolved.name}); write elsewhere")
    return output


def _fsync_folder(folder: Path) -> None:
    """Persist a rename: fsync the folder's entry table (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: Path, folder: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; once the block has written it, fsync it and
    rename it onto ``path``. On any exception (SIGTERM included: see
    :mod:`autophagy.running.signals`) the temporary file is removed and ``path`` is left as it
    was. Both files pass the folder gate (:func:`gate`) of ``folder`` (default: ``path``'s own
    folder): the temporary file is created exclusively with ``O_NOFOLLOW``."""
    path = Path(path)
    folder = Path(folder) if folder is not None else path.parent
    gate(folder, path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        if tmp.is_symlink() or tmp.is_file():
            tmp.unlink()  # a leftover of a killed writer with this pid (never followed)
    os.close(open_gated(folder, tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    try:
        yield tmp
        fd = open_gated(folder, tmp, os.O_RDWR)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        gate(folder, path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(path.parent)


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`); returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


class FolderLock:
    """Exclusive lock on a run or sweep folder for the life of one writer (a context manager).

    ``acquire`` raises :class:`EnvironmentFault` naming the folder and the pid holding it when
    another process has it. Where ``fcntl`` is missing (Windows) the lock is a no-op.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        fd = open_gated(self.folder, self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise EnvironmentFault(
                str(self.folder),
                f"in use by another autophagy process (pid {holder}); wait for it to finish, "
                "or choose another folder with --out",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock; the file stays (unlinking would race)
            self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def safe_name(text: str, max_length: int = MAX_NAME) -> str:
    """A file name for ``text`` that stays in its folder: letters, digits, ``_ . -`` only, no
    leading dot, at most ``max_length`` characters. A name that had to change gets a short
    hash of the original appended, so two different texts never share a file."""
    text = str(text)
    cleaned = _UNSAFE.sub("_", text).lstrip(".") or "_"
    if cleaned == text and len(text) <= max_length:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{cleaned[: max_length - 11]}-{digest}"


def plain_text() -> contextlib.AbstractContextManager:
    """Matplotlib settings under which text made is drawn as typed: ``$...$`` is not mathtext
    (a user string cannot switch the parser on) and ``usetex`` is off."""
    import matplotlib

    return matplotlib.rc_context({"text.parse_math": False, "text.usetex": False})


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a regular file, not a symlink, whose real location is in ``folder``."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_file():
            return False
        return path.resolve().is_relative_to(Path(folder).resolve())
    except OSError:
        return False


def check_output_folder(out: Path, field: str = "--out") -> None:
    """Refuse, before any work, an output folder the run could not write: a file in its place or
    above it (bad input, exit 2), a name too long for the file system (bad input), or a parent
    folder this process may not write (environment, exit 3)."""
    out = Path(out)
    for part in out.parts:
        if len(part.encode("utf-8", "surrogatepass")) > 255:
            raise ConfigError(field, f"a path component is longer than 255 bytes: {part[:40]}...")
    if out.exists() and not out.is_dir():
        raise ConfigError(field, f"{out} exists and is not a folder")
    existing = out
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(field, f"{existing} is a file, so {out} cannot be a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise EnvironmentFault(field, f"{existing} is not writable by this user")
    plots = out / "plots"
    if plots.exists() and not plots.is_dir():
        raise ConfigError(field, f"{plots} is a file; plots/ must be a folder (move the file away)")
