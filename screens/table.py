"""The screen list: name -> (module, class). Screens are imported on first use."""

from __future__ import annotations

SCREENS: dict[str, tuple[str, str]] = {
    "home": ("screens.home", "HomeScreen"),
    "identify": ("screens.identify", "IdentifyScreen"),
    "catalog": ("screens.catalog", "CatalogScreen"),
    "guide": ("screens.guide", "GuideScreen"),
    "form": ("screens.form", "FormScreen"),
    "certificates": ("screens.certificates", "CertificatesScreen"),
    "capture": ("screens.capture", "CaptureScreen"),
    "review": ("screens.review", "ReviewScreen"),
    "signature": ("screens.signature", "SignatureScreen"),
    "receipt": ("screens.receipt", "ReceiptScreen"),
    "rating": ("screens.rating", "RatingScreen"),
    "status": ("screens.status", "StatusScreen"),
    "supplement": ("screens.supplement", "SupplementScreen"),
    "worklist": ("screens.worklist", "WorklistScreen"),
    "maintenance": ("screens.maintenance", "MaintenanceScreen"),
    "out_of_service": ("screens.out_of_service", "OutOfServiceScreen"),
}
HOME = "home"

# Screens dropped (out of the screen manager, their widgets and label textures freed) when the
# screen named first shows, each built again if the villager goes back to it: the capture screen
# is the visit's costliest (camera, preview, scanners) and the screens behind it are not shown
# meanwhile (≈ 25 MB on a 1920×1080 walk, docs/scanning.md). Their state lives in their steps
# (kiosk.steps: the form's values, CatalogStep.place), so nothing typed is lost.
DROPPED_WHEN_SHOWN: dict[str, tuple[str, ...]] = {
    "capture": ("catalog", "guide", "form", "certificates"),
}
