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

# Screens dropped (removed from the screen manager, their widgets and label textures freed) when
# the screen named first shows; each is built again if the villager goes back to it. Their state
# lives in their steps (kiosk.steps), so nothing typed is lost.
DROPPED_WHEN_SHOWN: dict[str, tuple[str, ...]] = {
    "capture": ("catalog", "guide", "form", "certificates"),
}
