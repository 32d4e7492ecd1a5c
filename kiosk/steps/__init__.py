"""One controller per step of a visit; the screens talk each to its own.

===========  ==========================  ============================================
step         controller                  devices it uses while entered
===========  ==========================  ============================================
home         ``home.HomeStep``           —
(staff)      ``staff.StaffStep``         the PC/SC reader (always watched: staff cards)
identify     ``identify.IdentifyStep``   ID card reader (a ``BackgroundLoop``), camera
                                         (borrowed: codes), social security cards
catalog      ``choose.CatalogStep``      —
guide        ``choose.GuideStep``        —
form         ``choose.FormStep``         —
certificates ``certificates.``           — (asks the hall on a one-shot job)
             ``CertificatesStep``
capture      ``capture.CaptureStep``     camera (borrowed: the live page scanner)
review       ``confirm.ReviewStep``      — (confirm: seal, queue, wake the sync)
signature    ``signature.SignatureStep`` — (consent, the signature; then review's confirm)
receipt      ``confirm.ReceiptStep``     receipt printer (one-shot jobs)
rating       ``rating.RatingStep``       — (好差评 queued as its own record, the sync woken)
status       ``status.StatusStep``       — (a correction: 补交材料 starts the supplement)
supplement   ``supplement.``             — (the named pages sealed and queued as a supplement;
             ``SupplementStep``          reached from capture in its supplement mode)
worklist     ``worklist.WorklistStep``   — (a signed-in grid worker's applications; a
                                         correction answered by the supplement step)
maintenance  ``maintenance.``            every device, for the self-test (the
             ``MaintenanceStep``         technician's, behind a PIN)
out_of_      ``maintenance.``            — (the county's lock: only its notice)
service      ``OutOfServiceStep``
===========  ==========================  ============================================

The moves between steps are in ``kiosk.steps.table``; ``screens.navigator.Navigator`` is
the one place that changes screens and it follows that table, calling ``leave()`` on the
step it leaves and ``enter()`` on the one it shows. Everything about the villager is in the
``kiosk.visit.Visit`` the steps share through ``StepContext``; a step holds devices and
workers, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.agent.state import AgentState
from kiosk.readiness import DeviceReadiness
from kiosk.steps.capture import CaptureStep
from kiosk.steps.certificates import CertificatesStep
from kiosk.steps.choose import CatalogStep, FormStep, GuideStep
from kiosk.steps.confirm import ReceiptStep, ReviewStep, SyncWaker
from kiosk.steps.context import Step, StepContext
from kiosk.steps.home import HomeStep
from kiosk.steps.identify import IdentifyStep
from kiosk.steps.maintenance import MaintenanceStep, OutOfServiceStep
from kiosk.steps.rating import RatingStep
from kiosk.steps.result import ResultDesk
from kiosk.steps.signature import SignatureStep
from kiosk.steps.staff import StaffStep
from kiosk.steps.status import StatusStep
from kiosk.steps.supplement import SupplementStep
from kiosk.steps.worklist import WorklistStep


@dataclass(frozen=True)
class Steps:
    """Every step controller of the kiosk, by name (``by_name`` for the navigator)."""

    home: HomeStep
    staff: StaffStep
    identify: IdentifyStep
    catalog: CatalogStep
    guide: GuideStep
    form: FormStep
    certificates: CertificatesStep
    capture: CaptureStep
    review: ReviewStep
    signature: SignatureStep
    receipt: ReceiptStep
    rating: RatingStep
    status: StatusStep
    supplement: SupplementStep
    worklist: WorklistStep
    maintenance: MaintenanceStep
    out_of_service: OutOfServiceStep

    @classmethod
    def build(cls, ctx: StepContext, sync: SyncWaker | None = None) -> Steps:
        identify = IdentifyStep(ctx)
        staff = StaffStep(ctx, identify)
        receipt = ReceiptStep(ctx)
        ctx.devices = DeviceReadiness(devices_cfg=ctx.settings.devices, camera=ctx.camera,
                                      printer_health=receipt.printer_health, jobs=ctx.jobs,
                                      emit=ctx.events.emit)
        review = ReviewStep(ctx, receipt, sync)
        certificates = CertificatesStep(ctx)
        lock = AgentState.load(ctx.settings.data_dir)  # a locked kiosk stays locked after a restart
        supplement = SupplementStep(ctx, review)
        return cls(home=HomeStep(ctx, staff), staff=staff, identify=identify, catalog=CatalogStep(ctx),
                   guide=GuideStep(ctx), form=FormStep(ctx, certificates),
                   certificates=certificates, capture=CaptureStep(ctx),
                   review=review, signature=SignatureStep(ctx, review), receipt=receipt,
                   rating=RatingStep(ctx, sync), supplement=supplement,
                   status=StatusStep(ctx, supplement, ResultDesk(ctx, receipt)),
                   worklist=WorklistStep(ctx, staff, supplement),
                   maintenance=MaintenanceStep(ctx, review),
                   out_of_service=OutOfServiceStep(ctx, lock.locked, lock.notice))

    def by_name(self, name: str) -> Step:
        step = getattr(self, name, None)
        if not isinstance(step, Step):
            raise KeyError(name)
        return step

    def close(self) -> None:
        """Shutting down: stop every device user and worker the steps started."""
        self.identify.close()
        self.capture.close()
        self.catalog.close()
        self.staff.close()
        self.receipt.close()
        self.rating.close()


__all__ = ["Step", "StepContext", "Steps"]
