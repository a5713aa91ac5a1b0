"""Reading a submission: regular files that really live inside it, and nothing else.

A submission is a folder the grader was pointed at (its *root*: what the instructor named on
the command line, a batch folder, Gradescope's upload). Everything below the root is the
learner's, and Git, zip and tar all carry more than plain files. So below the root:

* no symbolic link is followed, at any depth — a link to the course's reference solution
  (for one file, an exercise folder or a whole ``exercises/``) would earn its marks;
* only a regular file is read, never a named pipe (it would block the grader), a device
  (``/dev/zero`` never ends) or a socket;
* a file with a second hard link is refused: it may be the same file as one of the course's;
* every read is bounded: a file larger than the limit (also a sparse one, which costs no
  disk) is refused from its size, before a byte is read.

Each refusal is a :class:`Refused` with one line saying why. Every path is walked from the
root one component at a time with ``O_NOFOLLOW`` (``openat``), so nothing can be swapped
for a link between the check and the read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

# What a learner file may weigh (SQL, notes, scripts): more is refused unread.
MAX_FILE_BYTES = 5 * 1024 * 1024

_KINDS = {
    stat.S_IFLNK: "a symbolic link (the grader does not follow links)",
    stat.S_IFIFO: "a named pipe, not a regular file",
    stat.S_IFCHR: "a device, not a regular file",
    stat.S_IFBLK: "a device, not a regular file",
    stat.S_IFSOCK: "a socket, not a regular file",
    stat.S_IFDIR: "a folder, not a file",
    stat.S_IFREG: "a regular file",
}


class Refused(Exception):
    """A path in the submission that the grader will not read; ``str()`` is the one-line reason."""


class Missing(Exception):
    """Nothing at that path in the submission."""


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _parts(root: Path, path: Path) -> tuple[str, ...]:
    """``path`` relative to ``root``, as components; refused when it is not below it lexically."""
    try:
        rel = PurePosixPath(Path(path).relative_to(root).as_posix())
    except ValueError:
        raise Refused(f"{path} is outside the submission folder; the grader only reads files inside it") from None
    parts = tuple(p for p in rel.parts if p != ".")
    if ".." in parts or rel.is_absolute():
        raise Refused(f"{rel} is outside the submission folder; the grader only reads files inside it")
    return parts


def _open_dirs(root: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of the folder ``root/parts…``, every component a real folder (no link)."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise Missing(str(root)) from None  # no submission folder at all: its files are missing
    try:
        for i, part in enumerate(parts):
            shown = "/".join(parts[: i + 1])
            try:
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                raise Missing(shown) from None
            except NotADirectoryError:
                raise Missing(shown) from None
            if not stat.S_ISDIR(st.st_mode):
                raise Refused(f"{shown} is {_kind(st.st_mode)}")
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_file(root: Path, path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path`` below ``root``, at most ``limit`` of them.

    Raises :class:`Missing` when there is nothing there, :class:`Refused` (with the reason)
    for a link at any depth, anything but a regular file, a second hard link, or a file over
    ``limit`` bytes.
    """
    root, path = Path(root), Path(path)
    parts = _parts(root, path)
    if not parts:
        raise Refused(f"{path} is the submission folder itself, not a file")
    shown = "/".join(parts)
    dir_fd = _open_dirs(root, parts[:-1])
    try:
        try:
            st = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            raise Missing(shown) from None
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{shown} is {_kind(st.st_mode)}")
        # O_NONBLOCK: should a pipe take the file's place after the check, opening it does not wait.
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
                     dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{shown} is {_kind(st.st_mode)}")
        if st.st_nlink > 1:
            raise Refused(f"{shown} has {st.st_nlink} hard links: it may be another file's, so it is not read")
        if st.st_size > limit:
            raise Refused(f"{shown} is {_size(st.st_size)}; the limit is {_size(limit)} (not read)")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise Refused(f"{shown} grew past the limit of {_size(limit)} while it was read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB".replace(".0 MiB", " MiB")
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} bytes"


def folder_and_root(given: Path) -> tuple[Path, Path]:
    """The folder to grade and the root below which no link is followed, for a path an
    instructor or a front end names (``grade.py SUBMISSION``, ``pytest --submission DIR``).

    The path is trusted as given — unless it is itself a symbolic link (a student
    repository's ``exercises`` pointing at the course's own files, say): then its parent is the
    root, and every file is refused with the reason rather than read through the link.
    """
    given = Path(given).absolute()
    if given.is_symlink():
        root = given.parent.resolve()
        return root / given.name, root
    return given.resolve(), given.resolve()
