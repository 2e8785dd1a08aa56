"""What a sender's signature says about them: phone, job title, company, website.

Plain Python, no Django. The signature is the block after the ``-- `` delimiter, else after
the last sign-off line ("Best regards,", "Thanks,", …) in the last lines of the text; quoted
replies (``>`` lines and "On … wrote:") are left out first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

SIGN_OFFS = re.compile(
    r"^(best( regards| wishes)?|kind regards|regards|warm regards|many thanks|thanks( again)?|"
    r"thank you|cheers|all the best|sincerely|yours( sincerely| truly)?|cordialement|"
    r"mit freundlichen grüßen|saludos)[,.!]*$", re.IGNORECASE)
QUOTE_HEADER = re.compile(r"^(on .{3,200} wrote:|-{2,} ?original message ?-{2,}|from: .+)$",
                          re.IGNORECASE)
WEBSITE = re.compile(r"\b((?:https?://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,12}"
                     r"(?:/[^\s]*)?)", re.IGNORECASE)
TITLE_AT = re.compile(r"^(?P<title>[^,|@]{2,80}?)\s*(?:,|\||\bat\b|@|–|—| - )\s*"
                      r"(?P<company>[^,|]{2,120})$", re.IGNORECASE)
TITLE_WORDS = re.compile(
    r"\b(owner|founder|co-founder|director|manager|head|chef|baker|buyer|ceo|cfo|cto|coo|"
    r"president|partner|assistant|officer|lead|coordinator|consultant|engineer|designer|"
    r"specialist|supervisor|administrator|accountant|sales|marketing|purchasing|procurement|"
    r"operations|events?|catering)\b", re.IGNORECASE)
MAX_SIGNATURE_LINES = 8


@dataclass
class Signature:
    phones: list[str]
    job_title: str = ""
    company: str = ""
    website: str = ""


def without_quotes(text: str) -> str:
    """The new part of a reply: quoted lines and what follows "On … wrote:" removed."""
    kept = []
    for line in text.splitlines():
        stripped = line.strip()
        if QUOTE_HEADER.match(stripped):
            break
        if not stripped.startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def signature_block(text: str) -> list[str]:
    lines = [line.strip() for line in without_quotes(text).splitlines()]
    if "--" in lines or "-- " in text:
        start = max(i for i, line in enumerate(lines) if line == "--") + 1
        block = lines[start:]
    else:
        tail_start = max(0, len(lines) - 12)
        sign_off = [i for i in range(tail_start, len(lines)) if SIGN_OFFS.match(lines[i])]
        if not sign_off:
            return []
        block = lines[sign_off[-1] + 1:]
    return [line for line in block if line][:MAX_SIGNATURE_LINES]


def parse_signature(text: str, *, sender_name: str = "", region: str = "GB") -> Signature:
    """What the signature of ``text`` gives. Phones are E.164; a company is only taken from
    a line that also names a job title (or from the line right after the title)."""
    block = signature_block(text)
    found = Signature(phones=[])
    rest = []
    for line in block:
        matches = list(phonenumbers.PhoneNumberMatcher(line, region,
                                                         leniency=phonenumbers.Leniency.POSSIBLE))
        if matches:
            for match in matches:
                number = phonenumbers.format_number(match.number,
                                                    phonenumbers.PhoneNumberFormat.E164)
                if number not in found.phones:
                    found.phones.append(number)
            continue
        if "@" not in line and (site := WEBSITE.search(line)) and \
                len(site.group(1)) >= len(line.strip(" <>()[]:").removeprefix("Web").strip(" :")):
            found.website = found.website or site.group(1).rstrip(".,;)")
            continue
        if "@" in line and " " not in line.strip():
            continue  # their address, which we have
        rest.append(line)
    names = {part.lower() for part in sender_name.split() if part}
    rest = [line for line in rest
            if not (names and set(line.lower().replace(",", " ").split()) <= names)]
    for index, line in enumerate(rest):
        if not TITLE_WORDS.search(line):
            continue
        pair = TITLE_AT.match(line)
        if pair and TITLE_WORDS.search(pair.group("title")):
            found.job_title = pair.group("title").strip()[:150]
            found.company = pair.group("company").strip()[:200]
        else:
            found.job_title = line[:150]
            if index + 1 < len(rest) and not TITLE_WORDS.search(rest[index + 1]):
                found.company = rest[index + 1][:200]
        break
    return found
