"""Files the jobs store (certificate and printout PDFs): written whole or not at all."""

import os
import tempfile


def store_atomically(directory: str, name: str, data: bytes) -> str:
    """Write `data` as `directory`/`name` through a temporary file and a rename: never half a file; `name`.

    A killed writer leaves only a hidden `.<name>.*.tmp`, which is never served (see the cleanup tasks).
    """
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{name.removesuffix('.pdf')}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, os.path.join(directory, name))
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return name
