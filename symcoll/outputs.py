"""Writing command-line outputs safely: checked locations, atomic files, one set per run.

Used by ``symcoll paper`` (and, for the location checks, ``symcoll kernels`` and ``symcoll evolve --out FILE``).

Design
------
* **Check before computing.**  :func:`check_output_dir` decides, before any work, whether
  ``--out`` can be used: it must be a directory or not exist yet, and the directory that will
  hold it must accept a new file (tested by creating and removing one, which also catches
  read-only file systems and ``/proc``, where permission bits say nothing).  A failure is an
  :class:`OutputError` whose one-line message names the flag and the path.
* **Atomic files.**  :func:`atomic_write` writes to a temporary file in the target's own
  directory (same file system), flushes and fsyncs it, then ``os.replace``s it onto the
  target: a reader sees the old file or the new one, never a truncated one.
* **One set per run.**  :class:`OutputSet` writes a run's files into a private staging
  directory ``OUT/.symcoll-staging-*`` (inside ``OUT``, hence on the same file system) while
  the run computes.  Only when every file is complete does :meth:`OutputSet.commit` move them
  into ``OUT``: it removes the previous ``manifest.json``, ``os.replace``s each file, then
  writes the new ``manifest.json`` (each file's size and sha256) last and fsyncs the
  directory.  SIGINT is held during these few renames, so Ctrl-C cannot split a set; after a
  hard kill (SIGKILL, power loss) in that window ``OUT`` has no manifest, which marks the set
  as incomplete.  A set is complete and consistent exactly when ``manifest.json`` exists and
  every file it lists has the listed sha256.  We do not swap whole directories: ``OUT`` may
  hold the user's own files (``--out .``), which must survive.
* **One run per directory.**  :class:`OutputSet` holds an exclusive ``fcntl.flock`` on
  ``OUT/.symcoll.lock`` for the whole run; a second run into the same ``OUT`` is refused at
  once with an :class:`OutputError` naming the directory.  The lock file is removed when the
  run ends (while still locked; a waiter that opened the old file notices the unlink and
  retries on the new one).  Without ``fcntl`` (Windows) the lock file is created exclusively
  instead, and a stale one left by a killed run must be removed by hand.
* **Interrupts.**  On any exception (Ctrl-C included) the staging directory is removed, the
  lock released and, if the run created ``OUT``, ``OUT`` is removed again: ``OUT`` is left
  as it was.  A ``KeyboardInterrupt`` before the commit is re-raised as :class:`Interrupted`
  whose :attr:`~Interrupted.detail` says so; the command line prints it as one line and
  exits with status 130.
"""
from __future__ import annotations

import contextlib
import datetime
import glob
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile
import threading

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

from ._version import __version__

#: Name of the lock file held in the output directory for the whole run.
LOCK_NAME = ".symcoll.lock"
#: Name of the manifest written last by :meth:`OutputSet.commit`.
MANIFEST_NAME = "manifest.json"
#: Prefix of the staging directories inside the output directory.
STAGING_PREFIX = ".symcoll-staging-"

__all__ = [
    "OutputError",
    "Interrupted",
    "check_output_dir",
    "check_output_file",
    "atomic_write",
    "OutputSet",
    "LOCK_NAME",
    "MANIFEST_NAME",
    "STAGING_PREFIX",
]


class OutputError(Exception):
    """An output location that cannot be used (the message is one line naming the path)."""


class Interrupted(KeyboardInterrupt):
    """A ``KeyboardInterrupt`` that says what became of the outputs (:attr:`detail`)."""

    def __init__(self, detail):
        super().__init__(detail)
        self.detail = detail


def _reason(exc):
    return exc.strerror or str(exc)


def check_output_dir(path, flag="--out"):
    """Check that ``path`` can receive output files, before any computation.

    ``path`` must be an existing directory or not exist yet; the directory that will hold the
    files (``path`` itself, or its nearest existing ancestor, which must be a directory) must
    accept a new file: one is created there and removed at once.  Nothing else is created.

    Parameters
    ----------
    path : str or os.PathLike
    flag : str
        The command-line flag named in error messages.

    Returns
    -------
    str
        ``path`` made absolute.

    Raises
    ------
    OutputError
        With a one-line message naming ``flag`` and the path.
    """
    text, target = _path_text(path, flag)
    if os.path.exists(target) and not os.path.isdir(target):
        raise OutputError(f"{flag} {text}: exists and is not a directory")
    probe = target
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise OutputError(f"{flag} {text}: cannot create it, {probe} is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".symcoll-probe-", dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        where = "" if probe == target else f" (cannot create files in {probe})"
        raise OutputError(f"{flag} {text}: not writable{where}: {_reason(exc)}") from None
    return target


def check_output_file(path, flag="--out"):
    """Check that a single output file ``path`` can be written, before any computation.

    ``path`` must not be a directory, and its directory must pass :func:`check_output_dir`
    (exist or be creatable, and accept a new file: :func:`atomic_write` replaces ``path`` by a
    rename in that directory).  Nothing is created.

    Returns
    -------
    str
        ``path`` made absolute.

    Raises
    ------
    OutputError
        With a one-line message naming ``flag`` and ``path``.
    """
    text, target = _path_text(path, flag)
    if os.path.isdir(target) or text.endswith(os.sep):
        raise OutputError(f"{flag} {text}: is a directory (a file name is needed)")
    try:
        check_output_dir(os.path.dirname(target), flag)
    except OutputError as exc:
        reason = str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)
        raise OutputError(f"{flag} {text}: cannot write it ({reason})") from None
    return target


def _path_text(path, flag):
    """``(text, absolute path)`` of a path argument, or OutputError naming ``flag``."""
    try:
        text = os.fspath(path)
    except TypeError:
        raise OutputError(f"{flag} must be a path (got {path!r})") from None
    if not text:
        raise OutputError(f"{flag} must be a non-empty path")
    return text, os.path.abspath(text)


def _fsync_dir(path):
    """fsync a directory so that renames in it are durable (a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems without directory fsync
        pass
    finally:
        os.close(fd)


def _file_mode(path):
    """Permissions for a new version of ``path``: its current ones, else ``0o666`` less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write(path, write, binary=False):
    """Write ``path`` atomically: ``write(fh)`` fills a temporary file that replaces ``path``.

    The temporary file lives in ``path``'s directory (same file system), is flushed and
    fsynced, then ``os.replace``d onto ``path``; on any exception it is removed and ``path``
    is untouched.  The new file gets the permissions of the file it replaces, or those of a
    newly created file (``0o666`` less the umask).

    Parameters
    ----------
    path : str or os.PathLike
    write : callable
        ``write(fh)`` writes the contents to the open file object ``fh``.
    binary : bool
        Open ``fh`` in binary mode (figures) instead of text mode (UTF-8).

    Returns
    -------
    str
        ``path``.
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, _file_mode(path))
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def _sigint_deferred():
    """Hold SIGINT during the block; a Ctrl-C received meanwhile is delivered at its end.

    Only the main thread can set signal handlers; elsewhere the block runs unprotected.
    A held Ctrl-C is re-raised as a signal once the previous handler is back, so it acts as
    it would have (``KeyboardInterrupt`` by default); if the block raises, it is dropped (an
    exception is already on its way).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        signal.raise_signal(signal.SIGINT)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OutputSet:
    """The files of one run, written into a staging directory and committed as one set.

    Use as a context manager; see the module docstring for the guarantees::

        with OutputSet("symcoll-paper", ["results.json", "report.md"]) as out:
            atomic_write(out.path("results.json"), ...)   # into the staging directory
            ...
            out.commit()                                  # all files appear together

    Parameters
    ----------
    out_dir : str or os.PathLike
        The output directory (created if missing, and removed again if the run fails).
    names : sequence of str
        The plain file names of the set; :meth:`commit` requires every one of them.
    flag : str
        The command-line flag named in error messages.
    command : str
        Recorded in the manifest.

    Raises
    ------
    OutputError
        On entering: ``out_dir`` unusable (see :func:`check_output_dir`), one of ``names``
        taken by a directory, or another run holding the lock.
    Interrupted
        On leaving through a ``KeyboardInterrupt``: ``detail`` says whether ``out_dir`` was
        left unchanged (before :meth:`commit`) or holds the complete new set.
    """

    def __init__(self, out_dir, names, flag="--out", command="symcoll"):
        self.display = os.fspath(out_dir)
        self.out_dir = check_output_dir(out_dir, flag)
        self.names = tuple(names)
        bad = [n for n in self.names if not n or os.path.basename(n) != n or n in (MANIFEST_NAME, LOCK_NAME)]
        if bad:
            raise ValueError(f"names must be plain file names other than {MANIFEST_NAME} and {LOCK_NAME} (got {bad})")
        self.flag = flag
        self.command = command
        self.staging = None
        self.committed = False
        self._created = []
        self._lock_fd = None

    # -- entering ------------------------------------------------------------------
    def __enter__(self):
        try:
            with _sigint_deferred():
                self._make_out_dir()
                self._lock()
                for name in self.names + (MANIFEST_NAME,):
                    if os.path.isdir(os.path.join(self.out_dir, name)):
                        raise OutputError(f"{self.flag} {self.display}: {name} there is a directory, "
                                          "which the output file would replace")
                # staging directories of runs that were killed (we hold the lock: nobody uses them)
                for stale in glob.glob(os.path.join(glob.escape(self.out_dir), STAGING_PREFIX + "*")):
                    shutil.rmtree(stale, ignore_errors=True)
                self.staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out_dir)
        except BaseException as exc:
            self._leave(exc)
            raise
        return self

    def _make_out_dir(self):
        missing, p = [], self.out_dir
        while not os.path.exists(p):
            missing.append(p)
            p = os.path.dirname(p)
        self._created = missing  # deepest first: removed again if the run does not commit
        try:
            os.makedirs(self.out_dir, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.flag} {self.display}: cannot create it: {_reason(exc)}") from None

    def _lock(self):
        path = os.path.join(self.out_dir, LOCK_NAME)
        busy = (f"{self.flag} {self.display}: another symcoll run is writing to this directory "
                f"(lock {path} is held); wait for it or choose another {self.flag}")
        if fcntl is None:  # pragma: no cover - Windows
            try:
                self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raise OutputError(busy + f" (remove {path} if no run is active)") from None
            return
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputError(busy) from None
            try:  # the previous holder unlinks the file on release: lock the file that is there now
                current = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                current = False
            if current:
                self._lock_fd = fd
                return
            os.close(fd)

    # -- writing -------------------------------------------------------------------
    def path(self, name):
        """Path of ``name`` in the staging directory (where the run writes it)."""
        if name not in self.names:
            raise ValueError(f"{name!r} is not one of this set's files {self.names}")
        return os.path.join(self.staging, name)

    def commit(self):
        """Move every file of the set into the output directory, then write the manifest.

        Raises
        ------
        RuntimeError
            A file of the set was not written.
        """
        missing = [n for n in self.names if not os.path.isfile(os.path.join(self.staging, n))]
        if missing:
            raise RuntimeError(f"the run did not write {missing}; nothing was committed")
        manifest = {
            "symcoll_version": __version__,
            "command": self.command,
            "written_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "files": {n: {"bytes": os.path.getsize(os.path.join(self.staging, n)),
                          "sha256": _sha256(os.path.join(self.staging, n))} for n in self.names},
            "note": "written last: the set is complete when every file listed has the listed sha256",
        }
        with _sigint_deferred():
            # no manifest while the files are being replaced: marks the set as incomplete
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.out_dir, MANIFEST_NAME))
            for n in self.names:
                os.replace(os.path.join(self.staging, n), os.path.join(self.out_dir, n))
            atomic_write(os.path.join(self.out_dir, MANIFEST_NAME),
                         lambda fh: json.dump(manifest, fh, indent=1))
            _fsync_dir(self.out_dir)
            self.committed = True

    # -- leaving -------------------------------------------------------------------
    def __exit__(self, exc_type, exc, tb):
        self._leave(exc)
        return False

    def _leave(self, exc):
        """Clean up (SIGINT held); turn a Ctrl-C into :class:`Interrupted` saying what ``out_dir`` holds."""
        interrupted = isinstance(exc, KeyboardInterrupt)
        try:
            with _sigint_deferred():
                self._cleanup()
        except KeyboardInterrupt:
            interrupted = True
        if interrupted:
            raise Interrupted(f"{self.display} holds the complete new set" if self.committed
                              else f"{self.display} left unchanged") from None

    def _cleanup(self):
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        if self._lock_fd is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.out_dir, LOCK_NAME))
            os.close(self._lock_fd)
            self._lock_fd = None
        if not self.committed:
            for d in self._created:  # deepest first; only directories this run created, if empty
                try:
                    os.rmdir(d)
                except OSError:
                    break
        self._created = []
