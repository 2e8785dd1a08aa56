"""Reading one email as it came off the wire: plain Python, no Django, never raises.

Whatever the bytes are — malformed MIME, a header sent twice, 8-bit garbage in a header, a
part with a charset that does not exist — :func:`parse_message` answers a :class:`ParsedMail`
and lists what it had to work around in ``problems``. Text is made storable (no NUL or other
control characters, no broken characters) and cut to the given limits; HTML is sanitised with
nh3 (no scripts, no event handlers, no remote images — the tracking pixels); attachments
larger than the limit are dropped and the drop is noted.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.header import Header, decode_header, make_header
from email.message import Message

import nh3

# Characters no person types and PostgreSQL may refuse: C0 controls but tab and newlines,
# DEL, and lone UTF-16 surrogates (what undecodable bytes become).
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Local part and domain, the domain possibly internationalised (as people type it).
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[\w-]+(\.[\w-]+)*\.[^\W\d_]{2,63}$")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,480})>")
# What sanitised email HTML may keep: nh3's safe tags, without images (remote ones are
# tracking pixels; inline ones could be anything) and forms.
HTML_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "form", "input", "button", "select", "textarea"}
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None  # None when it was dropped (past the size limit)


@dataclass
class ParsedMail:
    message_id: str  # without angle brackets; "" when the message had none
    key: str  # what makes two copies of one message the same: Message-ID, else a content hash
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    to: list[tuple[str, str]] = field(default_factory=list)  # (name, address)
    cc: list[tuple[str, str]] = field(default_factory=list)
    date: object = None  # datetime (aware) or None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""  # sanitised
    attachments: list[Attachment] = field(default_factory=list)
    auto_submitted: bool = False  # an auto-reply, bounce or bulk mail: never answered
    problems: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def thread(self) -> str:
        """The conversation it belongs to: the first message of its References chain."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id or self.key

    def addresses(self) -> list[str]:
        """Every distinct address in From, To and Cc, lower-cased, in that order."""
        seen: dict[str, None] = {}
        for address in [self.from_address, *(a for _, a in self.to), *(a for _, a in self.cc)]:
            if address:
                seen.setdefault(address, None)
        return list(seen)


def storable(value: str, limit: int | None = None) -> str:
    """Text any database stores: unstorable characters become U+FFFD, cut to ``limit``."""
    value = _UNSTORABLE.sub("\ufffd", value.replace("\x00", ""))
    return value if limit is None or len(value) <= limit else value[: limit - 1] + "…"


def _header(message: Message, name: str, problems: list[str]) -> str:
    """One header as text, whatever its encoding; the first when it was sent twice."""
    values = message.get_all(name) or []
    if len(values) > 1:
        problems.append(f"{name}: sent {len(values)} times; the first is kept")
    if not values:
        return ""
    value = values[0]
    if isinstance(value, Header):  # raw 8-bit bytes: most likely UTF-8 typed by a person
        problems.append(f"{name}: held 8-bit bytes; read as UTF-8")
        value = "".join(_text_of(chunk, charset) for chunk, charset in decode_header(value))
    elif not isinstance(value, str):
        value = str(value)
    if _UNSTORABLE.search(value):  # raw 8-bit bytes (kept as surrogates by the parser)
        problems.append(f"{name}: held bytes that are not text; read as UTF-8")
        try:
            value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8", "replace")
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except Exception:  # noqa: BLE001 - a malformed encoded word: kept as it came
            problems.append(f"{name}: malformed encoding")
    return storable(" ".join(value.split()))


def _text_of(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    for encoding in (charset if charset and charset != "unknown-8bit" else "utf-8", "utf-8"):
        try:
            return chunk.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return chunk.decode("utf-8", "replace")


def _address_list(value: str, problems: list[str], name: str) -> list[tuple[str, str]]:
    out = []
    for display, address in email.utils.getaddresses([value]):
        address = address.strip().lower()
        if not address:
            continue
        if not _ADDRESS.match(address) or len(address) > 254:
            problems.append(f"{name}: {address[:80]!r} is not an email address; ignored")
            continue
        out.append((storable(display.strip(), 150), address))
    return out


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value)


def _decoded(part: Message, problems: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if not isinstance(payload, bytes):
        payload = str(payload).encode("utf-8", "replace")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        problems.append(f"unknown charset {charset!r}; read as UTF-8")
        return payload.decode("utf-8", "replace")


def sanitise_html(value: str) -> str:
    """Email HTML as it may be shown: formatting kept; scripts, handlers, forms and images
    (tracking pixels) gone; links open safely."""
    if not value.strip():
        return ""
    return nh3.clean(value, tags=HTML_TAGS, link_rel="noopener noreferrer nofollow")


def html_to_text(value: str) -> str:
    """A readable plain text of an HTML body (for mail that has no text part)."""
    value = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", value)
    value = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6])\s*>", "\n", value)
    value = html.unescape(re.sub(r"<[^>]+>", " ", value))
    lines = (" ".join(line.split()) for line in value.splitlines())
    return "\n".join(line for line in lines if line).strip()


def _content_key(mail: ParsedMail, date_header: str) -> str:
    digest = hashlib.sha256()
    for part in (mail.from_address, ",".join(a for _, a in mail.to), date_header, mail.subject,
                 mail.text or mail.html):
        digest.update(part.encode("utf-8", "replace") + b"\x00")
    return "sha256:" + digest.hexdigest()


def _is_auto(message: Message, problems: list[str]) -> bool:
    auto = _header(message, "Auto-Submitted", problems).lower()
    precedence = _header(message, "Precedence", problems).lower()
    return bool((auto and auto != "no") or precedence in AUTO_PRECEDENCE
                or _header(message, "X-Autoreply", problems)
                or _header(message, "X-Autorespond", problems)
                or _header(message, "List-Id", problems)
                or _header(message, "X-Auto-Response-Suppress", problems).lower() in
                ("all", "oof", "autoreply")
                or (_header(message, "Return-Path", problems) == "<>"))


def parse_message(raw: bytes, *, max_attachment: int = 10 * 1024 * 1024,
                  max_text: int = 50_000, max_html: int = 200_000) -> ParsedMail:
    """The message in ``raw`` (RFC 822 bytes), read as far as it can be read."""
    problems: list[str] = []
    try:
        # compat32: headers stay raw text, decoded here only as far as they are needed (the
        # modern policy parses every header it touches and costs ten times as much).
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as error:  # noqa: BLE001 - the parser gives up on the whole thing
        problems.append(f"not a readable message ({type(error).__name__}); kept as text")
        message = email.message_from_bytes(b"\r\n\r\n" + raw, policy=email.policy.compat32)
    for defect in getattr(message, "defects", [])[:5]:
        problems.append(f"malformed: {type(defect).__name__}")

    message_ids = _message_ids(_header(message, "Message-ID", problems))
    from_list = _address_list(_header(message, "From", problems), problems, "From")
    mail = ParsedMail(message_id=message_ids[0] if message_ids else "", key="", problems=problems,
                      size=len(raw))
    if not mail.message_id:
        problems.append("no Message-ID; told apart by a hash of its content")
    if from_list:
        mail.from_name, mail.from_address = from_list[0]
    else:
        problems.append("no sender address")
    mail.to = _address_list(_header(message, "To", problems), problems, "To")
    mail.cc = _address_list(_header(message, "Cc", problems), problems, "Cc")
    mail.subject = storable(_header(message, "Subject", problems), 300)
    date_header = _header(message, "Date", problems)
    try:
        mail.date = email.utils.parsedate_to_datetime(date_header) if date_header else None
        if mail.date is not None and mail.date.tzinfo is None:  # type: ignore[attr-defined]
            mail.date = mail.date.replace(tzinfo=dt.UTC)  # type: ignore[attr-defined]
    except (TypeError, ValueError, IndexError):
        problems.append(f"Date: {date_header[:60]!r} is not a date; the arrival time is used")
        mail.date = None
    mail.in_reply_to = next(iter(_message_ids(_header(message, "In-Reply-To", problems))), "")
    mail.references = _message_ids(_header(message, "References", problems))[:100]
    mail.auto_submitted = _is_auto(message, problems)

    text_parts: list[str] = []
    html_parts: list[str] = []
    try:
        parts = list(message.walk())
    except Exception as error:  # noqa: BLE001
        problems.append(f"malformed MIME structure ({type(error).__name__})")
        parts = [message]
    for part in parts:
        try:
            if part.is_multipart():
                continue
            disposition = (part.get_content_disposition() or "").lower()
            content_type = part.get_content_type()
            filename = part.get_filename()
            if disposition == "attachment" or filename or not content_type.startswith("text/"):
                _attach(mail, part, filename, content_type, max_attachment)
            elif content_type == "text/html":
                html_parts.append(_decoded(part, problems))
            else:
                text_parts.append(_decoded(part, problems))
        except Exception as error:  # noqa: BLE001 - one bad part never loses the rest
            problems.append(f"a part could not be read ({type(error).__name__}); skipped")
    raw_html = "\n".join(html_parts)
    text = "\n\n".join(part.strip() for part in text_parts if part.strip())
    if not text and raw_html:
        text = html_to_text(raw_html)
    mail.text = storable(text, max_text)
    mail.html = storable(sanitise_html(raw_html), max_html)
    mail.key = mail.message_id or _content_key(mail, date_header)
    return mail


def _attach(mail: ParsedMail, part: Message, filename: str | None, content_type: str,
            limit: int) -> None:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    name = storable(filename or "attachment", 200)
    if len(data) > limit:
        mail.problems.append(f"attachment {name!r} ({len(data):,} bytes) is over the "
                             f"{limit:,}-byte limit; dropped")
        mail.attachments.append(Attachment(name, content_type[:100], len(data), None))
    else:
        mail.attachments.append(Attachment(name, content_type[:100], len(data), data))
