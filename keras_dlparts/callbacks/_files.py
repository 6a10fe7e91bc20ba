"""Files written by callbacks: safe names, and never a file they do not own.

Like Keras's `TensorBoard` (whose event files get fresh names) and
`BackupAndRestore` (which only deletes its own backup), a callback of this
package replaces or deletes only files it wrote itself. A file of the same
name that it did not write (from an earlier run, or someone else's) is
refused with a `FileExistsError` naming the file and the `overwrite`
argument, before training starts.
"""

import os
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_file_name(text):
    """`text` as one file name: no separators, no `..`, no leading dot.

    Every character outside `[A-Za-z0-9._-]` (path separators included)
    becomes `_`, and so does every run of dots longer than one and a
    leading dot, so the name always stays inside the directory it is
    joined to.

    Examples:

        >>> [safe_file_name(t) for t in ("gan/samples", "../x", "/etc/a b")]
        ['gan_samples', '__x', '_etc_a_b']
    """
    name = _UNSAFE.sub("_", text)
    name = re.sub(r"\.{2,}", "_", name)
    return "_" + name[1:] if name.startswith(".") else name


class OwnedFiles:
    """The files one callback wrote; refuses to replace any other file.

    Args:
        owner: the callback's class name, for messages.
        overwrite: bool; when True, files the callback did not write may be
            replaced too.
        directory_argument: the argument naming the directory, for messages.
    """

    def __init__(self, owner, overwrite, directory_argument):
        self.owner = owner
        self.overwrite = overwrite
        self.directory_argument = directory_argument
        self.written = set()

    def check(self, paths):
        """Raises FileExistsError naming the `paths` that exist, not ours."""
        if self.overwrite:
            return
        paths = [os.path.abspath(p) for p in paths]
        foreign = [
            p for p in paths if os.path.exists(p) and p not in self.written
        ]
        if foreign:
            listed = ", ".join(repr(p) for p in foreign)
            raise FileExistsError(
                f"{self.owner} would overwrite {listed}, which it did not "
                "write in this run. Pass `overwrite=True` to replace "
                f"{'them' if len(foreign) > 1 else 'it'}, or choose another "
                f"`{self.directory_argument}`."
            )

    def claim(self, path):
        """Checks `path`, records it as ours and returns it."""
        self.check([path])
        return self.record(path)

    def record(self, path):
        """Records `path` as written by this callback and returns it."""
        self.written.add(os.path.abspath(path))
        return path

    def remove(self, path):
        """Deletes `path` if this callback wrote it."""
        path = os.path.abspath(path)
        if path in self.written:
            self.written.discard(path)
            if os.path.exists(path):
                os.remove(path)
