import json
import shutil

import pytest

from kiosk.catalog import CARD_SOURCES, CATALOG_DIR, FIELD_KINDS, Catalog, ServiceItem, Text, load_catalog
from kiosk.errors import ConfigError, UnknownService


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_at_least_twelve_valid_items(catalog):
    assert len(catalog.items()) >= 12
    codes = [item.code for item in catalog.items()]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert all(code.startswith("GD-SAMPLE-") for code in codes)


def test_every_file_says_it_is_sample_data():
    for path in CATALOG_DIR.glob("*.toml"):
        assert path.read_text(encoding="utf-8").startswith("# SAMPLE DATA"), path.name


def test_every_item_has_the_standard_fields(catalog):
    for item in catalog.items():
        assert isinstance(item, ServiceItem)
        for text in (item.name, item.department, item.service_object, item.fee, item.guide):
            assert text.zh and text.en
        assert item.conditions and item.materials
        assert 0 <= item.promised_days <= item.statutory_days
        assert item.visits_needed in (0, 1, 2)
        assert not item.fully_online or item.visits_needed == 0
        assert 3 <= len(item.fields) <= 7, item.code
        assert len(item.guide.zh) < 120, item.code  # a few short sentences
        for material in item.materials:
            assert material.form in ("original", "copy", "original_and_copy") and material.count >= 1


def test_form_fields_are_valid(catalog):
    for item in catalog.items():
        for f in item.fields:
            assert f.kind in FIELD_KINDS
            assert f.source is None or f.source in CARD_SOURCES
            assert (f.kind == "choice") == bool(f.choices)
        sources = {f.source: f for f in item.fields if f.source}
        assert "card.name" in sources and "card.id_number" in sources
        assert sources["card.id_number"].kind == "id_number"


def test_each_item_needs_exactly_one_photographed_material_listed_first(catalog):
    for item in catalog.items():
        capture = item.capture_materials()
        assert len(capture) == 1, item.code
        assert item.required_materials()[0] == capture[0]
        assert any(m.covered_by_card and m.required for m in item.materials)


def test_get_and_unknown(catalog):
    item = catalog.get("GD-SAMPLE-001")
    assert item.name.zh == "城乡居民基本养老保险参保登记"
    assert "GD-SAMPLE-001" in catalog
    with pytest.raises(UnknownService) as info:
        catalog.get("GD-NOPE")
    assert info.value.message_key == "kiosk.unknown_service"


def test_to_json_is_plain_json(catalog):
    for item in catalog.items():
        data = json.loads(json.dumps(item.to_json(), ensure_ascii=False))
        assert data["code"] == item.code and data["name"]["zh"] == item.name.zh
        assert len(data["fields"]) == len(item.fields) and len(data["materials"]) == len(item.materials)


def test_text_get_falls_back_to_chinese():
    assert Text("中", "en").get("en") == "en"
    assert Text("中", "").get("en") == "中"
    assert Text("中", "en").get("fr") == "中"


def _copy_one(tmp_path, mutate):
    src = CATALOG_DIR / "gd-sample-001-pension-enrolment.toml"
    text = mutate(src.read_text(encoding="utf-8"))
    (tmp_path / src.name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace('kind = "phone"', 'kind = "telephone"'), "fields[3].kind: must be one of"),
        (lambda t: t.replace('source = "card.address"', 'source = "card.photo"'), "fields[2].source"),
        (lambda t: t.replace("statutory_days = 20", 'statutory_days = "20"'), "statutory_days: must be a"),
        (lambda t: t.replace("mobile_capable = true\n", ""), "mobile_capable: missing"),
        (lambda t: t.replace("visits_needed = 0", "visits_needed = 0\nwebsite = 1"), "website: unknown key"),
        (lambda t: t.replace('en = "Name"', 'en = "Name", fr = "Nom"'), "fields[0].label.fr: unknown key"),
        (lambda t: t.replace('form = "copy"', 'form = "scan"').replace('form = "original"', 'form = "scan"'),
         "materials[0].form"),
        (lambda t: t.replace("visits_needed = 0", "visits_needed = 1"), "fully_online"),
        (lambda t: t.replace('id = "M2"', 'id = "M1"'), "duplicate id 'M1'"),
        (lambda t: t.replace("code = ", "code = = "), "not valid TOML"),
        # an e-certificate type the hall's store does not know (kiosk.catalog.E_CERTIFICATE_TYPES)
        (lambda t: t.replace('e_certificate = "resident_id_card"', 'e_certificate = "library_card"'),
         "e_certificate: must be one of"),
    ],
)
def test_bad_item_names_file_and_key(tmp_path, mutate, expected):
    folder = _copy_one(tmp_path, mutate)
    with pytest.raises(ConfigError) as info:
        load_catalog(folder)
    assert "gd-sample-001-pension-enrolment.toml" in str(info.value)
    assert expected in str(info.value)


def test_duplicate_codes_and_empty_folder(tmp_path):
    src = CATALOG_DIR / "gd-sample-001-pension-enrolment.toml"
    shutil.copy(src, tmp_path / "a.toml")
    shutil.copy(src, tmp_path / "b.toml")
    with pytest.raises(ConfigError, match="duplicate item code"):
        load_catalog(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="no service items"):
        load_catalog(empty)


def test_every_item_has_a_known_category_and_icon_and_every_category_is_used(catalog):
    from kiosk.catalog import ICONS

    categories = catalog.categories()
    assert [c.id for c in categories] == ["insurance", "assistance", "family", "farming"]
    assert all(c.icon in ICONS and c.name.zh and c.name.en for c in categories)
    assert all(item.icon in ICONS for item in catalog.items())
    grouped = [item.code for c in categories for item in catalog.in_category(c.id)]
    assert sorted(grouped) == [item.code for item in catalog.items()]  # each item in exactly one


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace('category = "insurance"', 'category = "taxes"'), "category: must be one of"),
        (lambda t: t.replace('icon = "umbrella"', 'icon = "tank"'), "icon: must be one of"),
        (lambda t: t.replace('icon = "umbrella"\n', ""), "icon: missing"),
    ],
)
def test_bad_category_or_icon_names_file_and_key(tmp_path, mutate, expected):
    with pytest.raises(ConfigError) as info:
        load_catalog(_copy_one(tmp_path, mutate))
    assert "gd-sample-001-pension-enrolment.toml" in str(info.value) and expected in str(info.value)


def test_bad_categories_file(tmp_path):
    bad = tmp_path / "categories.toml"
    one = '[[categories]]\nid = "a"\nicon = "heart"\nname = { zh = "甲", en = "A" }\n'
    bad.write_text(one + one, encoding="utf-8")
    with pytest.raises(ConfigError, match="each id once"):
        load_catalog(categories_file=bad)
