"""Catalog, guide and form: choosing the service item, reading its guide, filling its form.

The catalog shows the categories first, then the items of one as picture buttons
(``CatalogRow``); a search finds items by pinyin initials (letter keys) or by a
character written by hand. The search and the handwriting recogniser are built off the
UI thread when the catalog is first entered (event ``catalog_search_ready``). An item the
kiosk cannot finish now (it needs a photo and the camera is missing) is marked with the
reason and cannot be chosen.

The form's values live in the ``Visit``; fields that come from the card are filled when
the item is chosen and cannot be changed. A villager identified by a social security
card cannot choose an item that needs the address from the ID card (there is no keyboard
to type it).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.applications import prefill_fields, validate_fields
from kiosk.catalog import Material, ServiceItem
from kiosk.catalog_search import CatalogHandwriting, CatalogSearch
from kiosk.presentation import ActionFailed, FormRow, guarded, mask_id, mask_name
from kiosk.staff import needs_address
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import CAPTURE, CATALOG, CERTIFICATES, FORM, GUIDE
from kiosk.visit import FROM_SOCIAL_SECURITY_CARD, Visit

if TYPE_CHECKING:
    from kiosk.steps.certificates import CertificatesStep

log = logging.getLogger(__name__)

SEARCH_SHOWN = 4  # results beside the letter keys: big buttons, few


@dataclass(frozen=True)
class CategoryRow:
    """One category tile: its id, words, picture, and how many items it holds."""

    id: str
    name: str
    icon: str
    count: int


@dataclass(frozen=True)
class CatalogRow:
    """One item's picture button; ``blocked`` says in plain words why it cannot start now ("" if it can)."""

    code: str
    name: str
    department: str
    icon: str
    blocked: str = ""


@dataclass(frozen=True)
class CatalogPlace:
    """Where the villager is in the catalog: the category shown, or the search, its way of
    typing (``letters`` or ``hand``) and what was typed. The step keeps it, not the screen:
    the catalog screen is dropped while the capture screen shows (``screens.table``) and
    built again, where the villager left it, if they go back."""

    category: str = ""
    searching: bool = False
    mode: str = "letters"
    letters: str = ""


class CatalogStep(Step):
    name = CATALOG

    def __init__(self, ctx: StepContext) -> None:
        super().__init__(ctx)
        self._search: CatalogSearch | None = None
        self.handwriting: CatalogHandwriting | None = None
        self._loading: Future[None] | None = None
        self._place: tuple[str, CatalogPlace] | None = None  # (the visit's id, its place)

    @property
    def place(self) -> CatalogPlace:
        """This visit's place in the catalog (the start, for a new visit)."""
        visit = self.ctx.visit
        if visit is None or self._place is None or self._place[0] != visit.id:
            return CatalogPlace()
        return self._place[1]

    def remember(self, place: CatalogPlace) -> None:
        visit = self.ctx.visit
        self._place = (visit.id, place) if visit is not None else None

    def enter(self) -> None:
        self.load_search()

    # -- categories and items ---------------------------------------------------------------

    def categories(self) -> list[CategoryRow]:
        lang, catalog = self.language, self.ctx.catalog
        return [CategoryRow(c.id, c.name.get(lang), c.icon, len(catalog.in_category(c.id)))
                for c in catalog.categories()]

    def rows(self, category_id: str) -> list[CatalogRow]:
        """The items of one category, as picture buttons."""
        return [self.row(item) for item in self.ctx.catalog.in_category(category_id)]

    def row(self, item: ServiceItem) -> CatalogRow:
        lang = self.language
        return CatalogRow(item.code, item.name.get(lang), item.department.get(lang), item.icon,
                          self.t(key) if (key := self.blocked_key(item)) else "")

    def blocked_key(self, item: ServiceItem) -> str:
        """The message key of why ``item`` cannot be started now, or ""."""
        if item.needs_photo and not self.ctx.camera_usable():
            return "catalog.needs_camera"
        return ""

    # -- search: pinyin initials and handwriting -----------------------------------------------

    def load_search(self) -> Future[None]:
        """Build the pinyin search and open the handwriting recogniser, once, off the UI thread
        (the job's future, the same on later calls)."""
        if self._loading is None:
            self._loading = self.ctx.jobs.submit("catalog search", self._load_search)
        return self._loading

    def _load_search(self) -> None:
        from kiosk.input.handwriting import HandwritingRecognizer, HandwritingUnavailable

        items = self.ctx.catalog.items()
        try:
            self.handwriting = CatalogHandwriting(HandwritingRecognizer.open(deferred=True), items)
        except HandwritingUnavailable as exc:  # the letter keys still work
            log.warning("catalog handwriting unavailable: %s", type(exc).__name__)
        self._search = CatalogSearch(items)
        self.ctx.events.emit("catalog_search_ready", handwriting=self.handwriting is not None)

    @property
    def search_ready(self) -> bool:
        return self._search is not None

    def search(self, query: str) -> list[CatalogRow]:
        """Items for pinyin initials (``csdj``), full pinyin or Chinese characters, best first."""
        if self._search is None:
            return []
        return [self.row(item) for item in self._search.find(query, limit=SEARCH_SHOWN)]

    def close(self) -> None:
        handwriting, self.handwriting = self.handwriting, None
        if handwriting is not None:
            handwriting.close()

    # -- choosing -------------------------------------------------------------------------------

    def items(self) -> list[tuple[str, str, str]]:
        """(code, name, department) for each item, in the current language."""
        lang = self.language
        return [(i.code, i.name.get(lang), i.department.get(lang)) for i in self.ctx.catalog.items()]

    def card_summary(self) -> dict[str, str]:
        """Masked name and ID number of the card in the visit, for a greeting."""
        visit = self.ctx.visit
        card = visit.card if visit is not None else None
        if card is None:
            return {"name": "", "id_number": ""}
        return {"name": mask_name(card.name), "id_number": mask_id(card.id_number)}

    @guarded
    def choose(self, code: str) -> bool:
        """Choose the item ``code`` (its form and pages start empty); True when chosen."""
        visit = self.ctx.need_visit()
        item = self.ctx.catalog.get(code)
        blocked = self.blocked_key(item)
        if blocked:
            raise ActionFailed(blocked, "cannot be done now")
        if visit.identity_source == FROM_SOCIAL_SECURITY_CARD and needs_address(item):
            raise ActionFailed("staff.needs_id_card", "address needed")
        visit.clear_application()
        visit.service_code = item.code
        if visit.card is not None:
            visit.fields.update(prefill_fields(item, visit.card))
        elif visit.typed_id_number:  # typed on the identify screen's keypad, or a barcode
            typed = visit.typed_id_number
            visit.fields.update({f.id: typed for f in item.fields if f.kind == "id_number"})
        visit.touch(self.ctx.clock())
        return True


class GuideStep(Step):
    name = GUIDE

    @guarded
    def guide(self) -> dict[str, Any]:
        """The plain-language guide of the chosen item, translated."""
        item, lang = self.ctx.need_item(), self.language
        return {
            "name": item.name.get(lang),
            "department": item.department.get(lang),
            "guide": item.guide.get(lang),
            "conditions": [c.get(lang) for c in item.conditions],
            "materials": [self.material_line(m) for m in item.materials],
            "promised_days": item.promised_days,
            "days_text": self.t("kiosk.days", days=item.promised_days),
            "fee": item.fee.get(lang),
            "visits_needed": item.visits_needed,
            "visits_text": self.t(f"kiosk.visits.{min(item.visits_needed, 2)}"),
        }

    def material_line(self, material: Material) -> str:
        """"居民户口簿（原件）", "Resident ID card (original, 2 copies)": what to bring, plainly."""
        parts = [self.t(f"kiosk.material.{material.form}")]
        if material.count > 1:
            parts.append(self.t("kiosk.material.count", count=material.count))
        if not material.required:
            parts.append(self.t("kiosk.material.optional"))
        if self.language == "zh":
            return f"{material.name.get('zh')}（{'，'.join(parts)}）"
        return f"{material.name.get(self.language)} ({', '.join(parts)})"


class FormStep(Step):
    name = FORM

    def __init__(self, ctx: StepContext, certificates: CertificatesStep | None = None) -> None:
        super().__init__(ctx)
        self.certificates = certificates

    def enter(self) -> None:
        """While the villager fills in the form, the hall is asked for their e-certificates."""
        if self.certificates is not None:
            self.certificates.prefetch()

    def next_step(self) -> str:
        """The e-certificates first when the hall found some, or is still being asked (steps.certificates)."""
        if self.certificates is not None and self.certificates.worth_showing():
            return CERTIFICATES
        return CAPTURE

    @guarded
    def rows(self, errors: dict[str, str] | None = None) -> list[FormRow]:
        visit, item, lang = self.ctx.need_visit(), self.ctx.need_item(), self.language
        errors = errors or {}
        rows = []
        for f in item.fields:
            from_card = bool(f.source) and visit.card is not None
            typed = _typed_number_field(visit, f.kind)
            value = visit.fields.get(f.id, "")
            if (from_card and f.source == "card.id_number") or typed:
                value = mask_id(value)  # a public screen: as on the review screen, masked
            rows.append(FormRow(
                field=f, label=f.label.get(lang), value=value, from_card=from_card or typed,
                error=self.t(errors[f.id]) if f.id in errors else "",
                choices=tuple((c.value, c.label.get(lang)) for c in f.choices),
                source_key="form.typed_number" if typed else "form.from_card",
            ))
        return rows

    @guarded
    def set_field(self, field_id: str, value: str) -> None:
        visit, item = self.ctx.need_visit(), self.ctx.need_item()
        spec = next((f for f in item.fields if f.id == field_id), None)
        if spec is None:
            raise ActionFailed("kiosk.unknown_field", "unknown field")
        if (spec.source and visit.card is not None) or _typed_number_field(visit, spec.kind):
            raise ActionFailed("form.read_only", "field comes from the card or the identify screen")
        if spec.max_length is not None:
            value = value[: spec.max_length]
        visit.fields[field_id] = value
        visit.touch(self.ctx.clock())

    @guarded
    def validate(self) -> dict[str, str]:
        """Field id -> message key; empty when the form is complete."""
        visit, item = self.ctx.need_visit(), self.ctx.need_item()
        return dict(validate_fields(item, dict(visit.fields)))


def _typed_number_field(visit: Visit, kind: str) -> bool:
    """An ID-number field filled from the number typed (or scanned) on the identify screen.

    It is shown masked and fixed like a card's number: the screen faces the room, and the
    number was already checked (GB 11643) where it was typed.
    """
    return kind == "id_number" and visit.card is None and bool(visit.typed_id_number)
