"""Where stored files live (certificate, sheet and printout PDFs, photos): one small interface, two backends.

    put(key, data, content_type)   write the file whole (replacing one of the same key)
    open(key) -> StoredObject      its content type, size and bytes in chunks; MissingFile when absent
    exists(key) / delete(key)
    response(key, ...)             the file as an HTTP response (streamed)

STORAGE="files" (default): a key is a path under a folder; "certificates/…" under CERTIFICATE_DIR,
"printouts/…" under PRINTOUT_DIR, anything else under STORAGE_DIR (relative paths under instance/), written
through a temporary file and a rename (never half a file). STORAGE="database": the bytes are rows of
`stored_file`, written in the caller's transaction and read back in chunks, so several web machines share them
with nothing else to run. A missing file is a MissingFile (404) naming the key: nothing renders it again quietly.
"""

import contextlib
import mimetypes
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from flask import Response, current_app, send_file, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.files import StoredFile
from app.services.errors import NotFound

NEW_FILES = "storage_new_files"  # db.session.info: files written in the open transaction
CHUNK = 256 * 1024  # bytes read from the database per query when a file is served
KEY = re.compile(r"^[a-z_]+(/[A-Za-z0-9_][A-Za-z0-9._-]{0,120}){1,3}$")
AREAS = {"certificates": "CERTIFICATE_DIR", "printouts": "PRINTOUT_DIR"}  # other keys: STORAGE_DIR
TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


class MissingFile(NotFound):
    """A record names a stored file that is not there (a lost disk, a moved folder, a deleted row)."""

    code = "file_missing"

    def __init__(self, key: str):
        super().__init__(
            _("The stored file %(key)s is missing; ask an administrator to restore it.", key=key)
        )
        self.key = key


@dataclass
class StoredObject:
    key: str
    content_type: str
    size: int
    chunks: Iterator[bytes]

    def read(self) -> bytes:
        return b"".join(self.chunks)


def checked(key: str) -> str:
    if not KEY.match(key or "") or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


def content_type_of(key: str) -> str:
    return (
        TYPES.get(os.path.splitext(key)[1].lower())
        or mimetypes.guess_type(key)[0]
        or "application/octet-stream"
    )


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` at `path` through a temporary file and a rename: never half a file.

    A killed writer leaves only a hidden `.<name>.*.tmp`, never served (remove_partial_files deletes it).
    """
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.splitext(name)[0]}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class FileStorage:
    """Files in folders of this machine (or a shared mount)."""

    name = "files"

    def path(self, key: str) -> str:
        area, _slash, rest = checked(key).partition("/")
        setting = AREAS.get(area)
        if setting is not None:
            root = os.path.join(current_app.instance_path, current_app.config.get(setting) or area)
            return os.path.join(root, rest)  # an absolute setting wins the join
        root = os.path.join(current_app.instance_path, current_app.config.get("STORAGE_DIR") or "files")
        return os.path.join(root, key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        new = not os.path.exists(path)
        write_atomically(path, data)
        if new:  # a file the transaction's rollback takes back (a replaced one stays: it was good before)
            session = db.session()
            if not session.in_transaction():
                session.begin()
            session.info.setdefault(NEW_FILES, []).append(path)

    def exists(self, key: str) -> bool:
        return os.path.isfile(self.path(key))

    def open(self, key: str) -> StoredObject:
        path = self.path(key)
        try:
            size = os.path.getsize(path)
        except OSError:
            raise MissingFile(key) from None

        def chunks():
            with open(path, "rb") as fh:
                while block := fh.read(CHUNK):
                    yield block

        return StoredObject(key, content_type_of(key), size, chunks())

    def delete(self, key: str) -> bool:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            return False
        return True

    def response(self, key: str, content_type: str, download_name: str | None) -> Response:
        path = self.path(key)
        if not os.path.isfile(path):
            raise MissingFile(key)
        return send_file(
            path,
            mimetype=content_type,
            as_attachment=download_name is not None,
            download_name=download_name,
            max_age=0,
        )

    def remove_partial_files(self, folder_key: str, older_than: timedelta) -> int:
        """Delete the hidden temporary files killed writers left in the folder of `folder_key`/…"""
        directory = os.path.dirname(self.path(folder_key + "/x"))
        if not os.path.isdir(directory):
            return 0
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        return removed


class DatabaseStorage:
    """Rows of `stored_file`, in the caller's transaction: written with the record that names them."""

    name = "database"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        db.session.execute(delete(StoredFile).where(StoredFile.key == checked(key)))
        db.session.add(StoredFile(key=key, content_type=content_type, size=len(data), data=data))
        db.session.flush()

    def exists(self, key: str) -> bool:
        return db.session.scalar(select(StoredFile.key).where(StoredFile.key == checked(key))) is not None

    def _head(self, key: str):
        row = db.session.execute(
            select(StoredFile.content_type, StoredFile.size, func.substr(StoredFile.data, 1, CHUNK)).where(
                StoredFile.key == checked(key)
            )
        ).first()
        if row is None:
            raise MissingFile(key)
        return row

    @staticmethod
    def _chunks(key: str, first: bytes, size: int) -> Iterator[bytes]:
        yield bytes(first)
        for offset in range(CHUNK, size, CHUNK):  # never the whole blob in memory: one chunk per query
            yield bytes(
                db.session.scalar(
                    select(func.substr(StoredFile.data, offset + 1, CHUNK)).where(StoredFile.key == key)
                )
                or b""
            )

    def open(self, key: str) -> StoredObject:
        content_type, size, first = self._head(key)
        return StoredObject(key, content_type, size, self._chunks(key, first, size))

    def delete(self, key: str) -> bool:
        return bool(db.session.execute(delete(StoredFile).where(StoredFile.key == checked(key))).rowcount)

    def response(self, key: str, content_type: str, download_name: str | None) -> Response:
        _stored_type, size, first = self._head(key)
        body = bytes(first) if size <= CHUNK else stream_with_context(self._chunks(key, first, size))
        response = Response(body, mimetype=content_type)
        response.headers["Content-Length"] = str(size)
        if download_name is not None:
            response.headers.set("Content-Disposition", "attachment", filename=download_name)
        return response

    def remove_partial_files(self, folder_key: str, older_than: timedelta) -> int:
        return 0  # a row is written whole in its transaction, or not at all


BACKENDS = {"files": FileStorage, "database": DatabaseStorage}


@event.listens_for(Session, "after_commit")
def _keep_new_files(session) -> None:
    session.info.pop(NEW_FILES, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_new_files(session, transaction) -> None:
    """Files written for rows that were rolled back (or never committed) name nothing: removed, so a failed save
    leaves no file. A commit took its files out of the list first (after_commit runs before this)."""
    if transaction.parent is not None or transaction.nested:
        return
    for path in session.info.pop(NEW_FILES, []):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def backend() -> FileStorage | DatabaseStorage:
    """The backend STORAGE names ("files" or "database")."""
    name = (current_app.config.get("STORAGE") or "files").lower()
    if name not in BACKENDS:
        raise RuntimeError(f"STORAGE must be one of {sorted(BACKENDS)}, not {name!r}")
    return BACKENDS[name]()


def put(key: str, data: bytes, content_type: str | None = None) -> str:
    backend().put(key, data, content_type or content_type_of(key))
    return key


def open_file(key: str) -> StoredObject:
    return backend().open(key)


def exists(key: str) -> bool:
    return backend().exists(key)


def delete_file(key: str) -> bool:
    return backend().delete(key)


def remove_partial_files(folder_key: str, older_than: timedelta = timedelta(hours=1)) -> int:
    return backend().remove_partial_files(folder_key, older_than)


def response(
    key: str,
    content_type: str | None = None,
    download_name: str | None = None,
    cache: str = "private, no-store",
) -> Response:
    """The stored file as an HTTP response: its type, nosniff, `cache` (public caching only when asked)."""
    result = backend().response(key, content_type or content_type_of(key), download_name)
    result.headers["X-Content-Type-Options"] = "nosniff"
    result.headers["Cache-Control"] = cache
    return result
