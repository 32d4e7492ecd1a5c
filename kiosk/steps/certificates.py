"""E-certificates (电子证照): before photographing, ask the hall for the villager's certificates.

When the chosen item has materials an e-certificate can stand in for (``Material.e_certificate``)
and the villager was identified by a card read (not a typed number: the hall must be
asked only with an identity the card proved), the form asks the hall while the villager
fills it in (``prefetch``: once per visit and item, on the one-shot job pool, never on the
UI thread); the answer arrives as the event ``certificates_changed`` (state). When the
hall found something, or has not answered yet, the form leads here instead of straight
to capture: the villager sees what was found in big plain words and chooses
"使用电子证照" (``agree``) or "我要拍照" (``decline``); while the kiosk waits, "我要拍照" is
already there, and an answer of nothing or a failure says so in plain words. With nothing
found or the hall unreachable before the form is done, the form leads to capture as it
did before e-certificates: a villager is not shown a screen of nothing.

What was found is the ``Visit``'s (``Visit.certificates``): wiped with the visit, never
written on the kiosk. The sealed application names the certificates agreed to
(``kiosk.certificates.references``); capture skips the materials they cover.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.certificates import (
    FOUND,
    LOOKING,
    NONE_FOUND,
    UNAVAILABLE,
    CertificateOffer,
    CertificateSource,
    SourceFactory,
    covered_materials,
    find_certificates,
    wanted_types,
)
from kiosk.presentation import ActionFailed, guarded
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import CAPTURE, CERTIFICATES, REVIEW
from kiosk.visit import FROM_ID_CARD, FROM_SOCIAL_SECURITY_CARD, Visit

log = logging.getLogger(__name__)

# A villager stands waiting: a hall slower than this is "unavailable" (photograph instead).
LOOKUP_TIMEOUT_S = 8.0
PROVEN_BY_CARD = (FROM_ID_CARD, FROM_SOCIAL_SECURITY_CARD)


@dataclass(frozen=True)
class CertificateLine:
    """One found certificate in the villager's words."""

    reference: str
    name: str  # 户口簿
    issuer: str
    number: str  # masked by the hall
    validity: str  # "有效期至 2030-03-01" / "长期有效"
    materials: tuple[str, ...]  # the item's materials it stands in for (names)


def offers_certificates(ctx: StepContext) -> bool:
    """Whether the form should lead to this step: an enrolled kiosk, a card read, an item that can use one."""
    visit, item = ctx.visit, ctx.current_item
    return (visit is not None and item is not None and ctx.identity is not None and visit.card is not None
            and visit.identity_source in PROVEN_BY_CARD and bool(wanted_types(item)))


class CertificatesStep(Step):
    name = CERTIFICATES

    def __init__(self, ctx: StepContext, source_factory: SourceFactory | None = None) -> None:
        super().__init__(ctx)
        self._source_factory = source_factory or self._hall_client

    def _hall_client(self) -> CertificateSource | None:
        from offline_queue.transport import HallClient

        identity = self.ctx.identity
        if identity is None:
            return None
        return HallClient(identity, timeout_s=min(LOOKUP_TIMEOUT_S, self.ctx.settings.hall.timeout_s),
                          clock=self.ctx.clock)

    # -- the lookup ----------------------------------------------------------------------------

    def prefetch(self) -> None:
        """Ask the hall now (the form calls this), once per visit and item, when it is worth asking."""
        visit = self.ctx.visit
        if visit is not None and visit.certificates is None and offers_certificates(self.ctx):
            self.start_lookup()

    def worth_showing(self) -> bool:
        """The step shows when the hall found something or is still being asked; with nothing found
        or no answer the form leads straight to the photographs, as before e-certificates."""
        visit = self.ctx.visit
        offer = visit.certificates if visit is not None else None
        return offer is not None and offer.state in (LOOKING, FOUND) and offers_certificates(self.ctx)

    def enter(self) -> None:
        self.prefetch()

    def start_lookup(self) -> None:
        """Ask the hall in the background; the answer lands in the visit (``certificates_changed``)."""
        visit, item = self.ctx.need_visit(), self.ctx.need_item()
        offer = CertificateOffer()
        visit.certificates = offer
        card = visit.card
        if card is None or not offers_certificates(self.ctx):
            self._settle(visit, offer, UNAVAILABLE, [])
            return
        id_number, types = card.id_number, wanted_types(item)

        def lookup() -> None:
            try:
                source = self._source_factory()
                if source is None:
                    raise ConnectionError("not enrolled")
                found = find_certificates(source, id_number, types)
            except Exception as exc:  # offline, slow, refused, garbled: the villager photographs
                log.warning("certificate lookup failed: %s", type(exc).__name__)
                self._settle(visit, offer, UNAVAILABLE, [])
                return
            self._settle(visit, offer, FOUND if found else NONE_FOUND, found)

        self.ctx.jobs.submit("certificate lookup", lookup)

    def _settle(self, visit: Visit, offer: CertificateOffer, state: str, found: list) -> None:
        offer.found[:] = found
        offer.state = state
        if visit.wiped or visit.certificates is not offer:  # the visit ended or the item changed meanwhile
            offer.wipe()
            return
        self.ctx.events.emit("certificates_changed", state=state)

    # -- what the screen shows ---------------------------------------------------------------------

    @property
    def state(self) -> str:
        visit = self.ctx.visit
        offer = visit.certificates if visit is not None else None
        return offer.state if offer is not None else LOOKING

    def lines(self) -> list[CertificateLine]:
        """The certificates found that the item can use, in the villager's language."""
        visit, item, lang = self.ctx.visit, self.ctx.current_item, self.language
        if visit is None or item is None or visit.certificates is None or visit.certificates.state != FOUND:
            return []
        lines = []
        for certificate in visit.certificates.found:
            materials = tuple(m.name.get(lang) for m in item.materials
                              if m.e_certificate == certificate.type and not m.covered_by_card)
            validity = (self.t("certificates.valid_until", date=certificate.valid_to) if certificate.valid_to
                        else self.t("certificates.no_expiry"))
            lines.append(CertificateLine(reference=certificate.reference, name=certificate.type_name(lang),
                                         issuer=certificate.issuer, number=certificate.number_masked,
                                         validity=validity, materials=materials))
        return lines

    def message_key(self) -> str:
        return {LOOKING: "certificates.looking", FOUND: "certificates.found",
                NONE_FOUND: "certificates.none"}.get(self.state, "certificates.unavailable")

    # -- the villager's choice ---------------------------------------------------------------------

    @guarded
    def agree(self) -> bool:
        """"使用电子证照": the found certificates stand in for their materials."""
        visit = self.ctx.need_visit()
        offer = visit.certificates
        if offer is None or offer.state != FOUND or not offer.found:
            raise ActionFailed("certificates.none", "nothing found to use")
        offer.agreed = True
        visit.touch(self.ctx.clock())
        return True

    def decline(self) -> None:
        """"我要拍照": photograph every material, as without e-certificates."""
        visit = self.ctx.visit
        if visit is not None and visit.certificates is not None:
            visit.certificates.agreed = False
            visit.touch(self.ctx.clock())

    def next_step(self) -> str:
        """Capture when a material is left to photograph; the review when the certificates cover all."""
        visit, item = self.ctx.visit, self.ctx.current_item
        if item is None or visit is None:
            return CAPTURE
        covered = covered_materials(item, visit.certificates)
        left = [m for m in item.materials if not m.covered_by_card and m.id not in covered]
        return CAPTURE if left else REVIEW
