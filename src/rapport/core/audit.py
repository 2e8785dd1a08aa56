"""Anchors: the chain head signed with a key kept outside the database (docs/audit.md).

The chain alone cannot show that its newest entries were cut off: whoever can write the
database can delete them and rewind the head. An anchor is a small file holding the seq and
hash of the head at one moment, signed with HMAC-SHA256 under a key the database never sees
(``RAPPORT_AUDIT_KEY``, or ``var/audit_key``, created 0600 on first use). Kept elsewhere
(copied off the machine, or written where the database's users cannot write), an anchor proves
that nothing up to its seq was removed or rewritten: ``rapport audit verify --anchor FILE``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import pathlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from rapport.core.events import (
    AnchorPoint,
    canonical_json,
    chain_head,
    seal_pending,
    take_seal_lock,
)
from rapport.core.models import AuditHead

ANCHOR_VERSION = 1


class AnchorError(Exception):
    """An anchor file that is unreadable, or whose signature does not hold."""


def key_path() -> pathlib.Path:
    return pathlib.Path(getattr(settings, "RAPPORT_AUDIT_KEY_FILE", settings.VAR_DIR / "audit_key"))


def anchor_dir() -> pathlib.Path:
    return pathlib.Path(getattr(settings, "RAPPORT_AUDIT_ANCHOR_DIR",
                                settings.VAR_DIR / "anchors"))


def audit_key(*, create: bool = True) -> bytes:
    """The signing key: the RAPPORT_AUDIT_KEY secret, else var/audit_key (made 0600)."""
    secret = os.environ.get("RAPPORT_AUDIT_KEY", "")
    if secret:
        return secret.encode()
    path = key_path()
    if not path.exists():
        if not create:
            raise AnchorError(f"no audit key: set RAPPORT_AUDIT_KEY or provide {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            return path.read_bytes().strip()
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"rapport audit key id:" + key).hexdigest()[:16]


def _signature(key: bytes, body: dict) -> str:
    return hmac.new(key, canonical_json(body).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Anchor:
    path: pathlib.Path
    created_at: str
    seq: int
    hash: str

    def point(self) -> AnchorPoint:
        return AnchorPoint(self.seq, self.hash, f"anchor {self.path.name} ({self.created_at})")


def latest_anchor(directory: pathlib.Path | None = None) -> Anchor | None:
    """The newest anchor file in the directory (by its dated name), checked; None if none."""
    files = sorted((directory or anchor_dir()).glob("*.json"))
    return read_anchor(files[-1]) if files else None


def write_anchor(directory: pathlib.Path | None = None, *, only_if_moved: bool = False
                 ) -> Anchor | None:
    """Seal what is pending, then write the signed head to ``<dir>/<UTC time>.json``.

    ``only_if_moved`` (the hourly job) writes nothing when the newest anchor already names the
    current head.
    """
    key = audit_key()
    seal_pending(wait=True)
    with transaction.atomic():
        # A write under the seal lock, committed synchronously: it puts every seal before it
        # on disk (seals commit asynchronously), so no anchor names a link a crash could lose.
        take_seal_lock(wait=True, in_write=True)
        head = chain_head()
        AuditHead.objects.filter(id=1).update(count=head.count)
    if only_if_moved:
        try:
            newest = latest_anchor(directory)
        except AnchorError:
            newest = None
        if newest is not None and (newest.seq, newest.hash) == (head.count, head.last_hash):
            return None
    now = dt.datetime.now(dt.UTC)
    created_at = now.isoformat(timespec="seconds")
    body = {"version": ANCHOR_VERSION, "created_at": created_at,
            "seq": head.count, "hash": head.last_hash, "key_id": _key_id(key)}
    signed = {**body, "signature": _signature(key, body)}
    folder = directory or anchor_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # Fixed width, so the names sort in time order.
    path = folder / f"{now:%Y%m%dT%H%M%S.%fZ}.json"
    path.write_text(json.dumps(signed, indent=2) + "\n")
    return Anchor(path, created_at, head.count, head.last_hash)


def read_anchor(path: pathlib.Path) -> Anchor:
    """Load an anchor file and check its signature under this installation's key."""
    try:
        data = json.loads(pathlib.Path(path).read_text())
        body = {k: data[k] for k in ("version", "created_at", "seq", "hash", "key_id")}
        signature = str(data["signature"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AnchorError(f"{path}: not a readable anchor ({error})") from error
    if not isinstance(body["seq"], int) or not isinstance(body["hash"], str):
        raise AnchorError(f"{path}: not a readable anchor (seq and hash)")
    key = audit_key(create=False)
    if not hmac.compare_digest(_signature(key, body), signature):
        raise AnchorError(f"{path}: the signature does not match (forged or altered anchor, or "
                          "signed with another key)")
    return Anchor(pathlib.Path(path), body["created_at"], body["seq"], body["hash"])
