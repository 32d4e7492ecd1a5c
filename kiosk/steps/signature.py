"""Consent and signature: the last step before the application is sealed.

The villager hears and reads what their data is used for (``consent_text``; event
``consent_prompt`` with ``voice.consent`` when the step is entered), agrees (``agree``;
event ``signature_prompt`` with ``voice.signature``), and signs with a finger on the pad.
``confirm`` then checks both — no agreement: ``consent.needed``; no signature:
``signature.empty`` — stores the signature PNG in the ``Visit`` (wiped with it) and hands
over to the review step's ``confirm``, which seals it with the application.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.presentation import ActionFailed, Receipt, guarded
from kiosk.signature import SIGNATURE_MATERIAL, SIGNATURE_MEDIA_TYPE, Stroke, render_signature
from kiosk.steps.confirm import ReviewStep
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import SIGNATURE
from kiosk.visit import Page

CONSENT_PROMPT = "voice.consent"
SIGNATURE_PROMPT = "voice.signature"


class SignatureStep(Step):
    name = SIGNATURE

    def __init__(self, ctx: StepContext, review: ReviewStep) -> None:
        super().__init__(ctx)
        self.review = review

    def enter(self) -> None:
        self.ctx.events.emit("consent_prompt", prompt_key=CONSENT_PROMPT, text=self.consent_text())

    def consent_text(self) -> str:
        return self.t("consent.text")

    @property
    def agreed(self) -> bool:
        visit = self.ctx.visit
        return visit is not None and bool(visit.consent_text)

    @guarded
    def agree(self, agreed: bool = True) -> bool:
        """The villager agrees (or takes it back); True when agreed."""
        visit = self.ctx.need_visit()
        visit.consent_text = self.consent_text() if agreed else ""
        if agreed:
            self.ctx.events.emit("signature_prompt", prompt_key=SIGNATURE_PROMPT)
        return agreed

    @guarded
    def confirm(self, strokes: Sequence[Stroke]) -> Receipt:
        """Check the consent and the signature, keep the signature, seal and queue (the receipt)."""
        visit = self.ctx.need_visit()
        if not visit.consent_text:
            raise ActionFailed("consent.needed", "consent not given")
        png = render_signature(strokes)
        visit.clear_signature()
        visit.signature = Page(material_id=SIGNATURE_MATERIAL, data=png, media_type=SIGNATURE_MEDIA_TYPE)
        return self.review.confirm()
