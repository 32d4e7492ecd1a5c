"""E-certificates (电子证照) found on the hall for the villager at the kiosk.

The hall's answer (docs/protocol.md, 16) is signed and verified by ``HallClient``, but
what it says is still hostile input: ``parse_lookup`` keeps only well-formed entries of
the types the kiosk asked for, with short printable words, and drops the rest. What is
found is the ``Visit``'s (``Visit.certificates``) and is wiped with it: nothing about a
villager's certificates is written on the kiosk.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.catalog import E_CERTIFICATE_NAMES, E_CERTIFICATE_TYPES, ServiceItem

REFERENCE = re.compile(r"ec-[0-9a-f]{32}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_FOUND = 10
MAX_WORDS = 60


@dataclass(frozen=True)
class FoundCertificate:
    """One certificate the hall holds for the card's holder: what the villager agrees to use."""

    reference: str  # opaque: the sealed application names it
    type: str  # one of kiosk.catalog.E_CERTIFICATE_TYPES
    issuer: str
    number_masked: str
    valid_from: str
    valid_to: str  # "" when it does not expire

    def type_name(self, lang: str) -> str:
        zh, en = E_CERTIFICATE_NAMES[self.type]
        return en if lang == "en" else zh


class CertificateSource(Protocol):
    def lookup_certificates(self, id_number: str, types: list[str]) -> Any: ...


def _words(value: Any, limit: int = MAX_WORDS) -> str:
    """A short line of printable text (no control or format characters), or ValueError."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise ValueError("control characters")
    return value.strip()[:limit]


def parse_lookup(answer: Any, asked: Sequence[str]) -> list[FoundCertificate]:
    """The usable certificates of a verified answer; a malformed entry is dropped, not trusted."""
    if not isinstance(answer, dict) or not isinstance(answer.get("certificates"), list):
        raise ValueError("certificates answer has the wrong shape")
    found: list[FoundCertificate] = []
    seen: set[str] = set()
    for entry in answer["certificates"][:MAX_FOUND]:
        try:
            if not isinstance(entry, dict):
                raise ValueError("entry is not an object")
            reference, kind = entry.get("reference"), entry.get("type")
            if not isinstance(reference, str) or not REFERENCE.fullmatch(reference):
                raise ValueError("bad reference")
            if kind not in E_CERTIFICATE_TYPES or kind not in asked or reference in seen:
                raise ValueError("a type not asked for, or a repeat")
            valid_from, valid_to = _words(entry.get("valid_from"), 10), _words(entry.get("valid_to", ""), 10)
            if not _DATE.fullmatch(valid_from) or (valid_to and not _DATE.fullmatch(valid_to)):
                raise ValueError("bad dates")
            certificate = FoundCertificate(reference=reference, type=kind, issuer=_words(entry.get("issuer")),
                                           number_masked=_words(entry.get("number_masked"), 40),
                                           valid_from=valid_from, valid_to=valid_to)
        except ValueError:
            continue
        seen.add(reference)
        found.append(certificate)
    return found


def find_certificates(source: CertificateSource, id_number: str,
                      types: Sequence[str]) -> list[FoundCertificate]:
    """Ask the hall (a network call: run it off the UI thread); raises what the client raises."""
    asked = sorted(set(types) & set(E_CERTIFICATE_TYPES))
    if not asked:
        return []
    return parse_lookup(source.lookup_certificates(id_number, asked), asked)


SourceFactory = Callable[[], CertificateSource | None]

# What the kiosk knows of the hall's certificates for this visit (``CertificateOffer.state``).
LOOKING = "looking"  # asked, no answer yet
FOUND = "found"  # at least one certificate the item can use
NONE_FOUND = "none"  # the hall has none of the types asked for
UNAVAILABLE = "unavailable"  # offline, slow, refused or a garbled answer: photograph instead


@dataclass(eq=False)
class CertificateOffer:
    """The lookup's result for one visit and item; the ``Visit``'s, wiped with it."""

    state: str = LOOKING
    found: list[FoundCertificate] = field(default_factory=list)
    agreed: bool = False  # the villager chose "使用电子证照"

    def wipe(self) -> None:
        self.found.clear()
        self.agreed = False
        self.state = UNAVAILABLE

    def __repr__(self) -> str:
        return f"CertificateOffer(state={self.state!r}, found={len(self.found)}, agreed={self.agreed})"


def wanted_types(item: ServiceItem) -> list[str]:
    """The e-certificate types that could stand in for the item's photographed materials."""
    return sorted({m.e_certificate for m in item.materials if m.e_certificate and not m.covered_by_card})


def covered_materials(item: ServiceItem, offer: CertificateOffer | None) -> dict[str, FoundCertificate]:
    """Material id -> the certificate the villager agreed to use for it (none before they agree)."""
    if offer is None or not offer.agreed:
        return {}
    by_type: dict[str, FoundCertificate] = {}
    for certificate in offer.found:
        by_type.setdefault(certificate.type, certificate)
    return {m.id: by_type[m.e_certificate] for m in item.materials
            if m.e_certificate in by_type and not m.covered_by_card}


def references(item: ServiceItem, offer: CertificateOffer | None) -> list[dict[str, str]]:
    """What the sealed application names (protocol 7): reference, type and material; no document."""
    return [{"reference": c.reference, "type": c.type, "material": material_id}
            for material_id, c in covered_materials(item, offer).items()]
