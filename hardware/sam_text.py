"""The 256-byte text block of an ID card read (UCS-2 little-endian, padded with spaces).

``decode_text_block`` turns it into an ``IdCard`` for the four layouts (resident card,
``J`` Hong Kong / Macau / Taiwan residence permit, ``I`` older and ``Y`` 2023 foreign
permanent resident cards); ``encode_text_block`` is the inverse, for the simulator.
Offsets and sizes below are in bytes, as in HARDWARE.md.
"""

from __future__ import annotations

from datetime import date

from hardware.errors import CardDataError, UnsupportedCard
from hardware.interfaces import CARD_FOREIGN_PERMANENT, CARD_HK_MACAU_TAIWAN, CARD_RESIDENT, IdCard

BLOCK_SIZE = 256
TYPE_OFFSET = 248
LONG_TERM = "长期"

SEX_BY_CODE = {"0": "unknown", "1": "male", "2": "female", "9": "unspecified"}
CODE_BY_SEX = {name: code for code, name in SEX_BY_CODE.items()}

# GB 3304: the 56 ethnic groups, then 97 and 98.
ETHNICITY_BY_CODE = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤",
    "22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西", "28": "景颇",
    "29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗",
    "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米",
    "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春",
    "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺",
    "97": "其他", "98": "外国血统中国籍人士",
}  # fmt: skip
CODE_BY_ETHNICITY = {name: code for code, name in ETHNICITY_BY_CODE.items()}

# (offset, size) in bytes, per layout. "" is the resident card (and J shares its fields).
_RESIDENT = {
    "name": (0, 30),
    "sex": (30, 2),
    "ethnicity": (32, 4),
    "birth_date": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "issuer": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
}
_PERMIT = {**_RESIDENT, "permit_number": (220, 18), "issue_count": (238, 4)}
_FOREIGN_OLD = {
    "english_name": (0, 120),
    "sex": (120, 2),
    "id_number": (122, 30),
    "nationality": (152, 6),
    "name": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "birth_date": (220, 16),
    "card_version": (236, 4),
    "issuer": (240, 8),
}
_FOREIGN_2023 = {
    "name": (0, 30),
    "sex": (30, 2),
    "issue_count": (32, 4),
    "birth_date": (36, 16),
    "english_name": (52, 70),  # first part; continued at 220
    "id_number": (122, 36),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "english_name_2": (220, 22),
    "nationality": (242, 6),
    "old_number_link": (250, 6),
}
LAYOUTS = {" ": _RESIDENT, "J": _PERMIT, "I": _FOREIGN_OLD, "Y": _FOREIGN_2023}
CARD_TYPE_BY_MARK = {
    " ": CARD_RESIDENT,
    "J": CARD_HK_MACAU_TAIWAN,
    "I": CARD_FOREIGN_PERMANENT,
    "Y": CARD_FOREIGN_PERMANENT,
}


def card_mark(block: bytes) -> str:
    """The layout mark at bytes 248–249: ``" "``, ``"J"``, ``"I"`` or ``"Y"``."""
    mark = block[TYPE_OFFSET : TYPE_OFFSET + 2].decode("utf-16-le", errors="replace")
    return " " if mark in (" ", "\x00", "") else mark


def decode_text_block(block: bytes, photo: bytes = b"") -> IdCard:
    """Decode a 256-byte text block. Raises ``CardDataError`` or ``UnsupportedCard``."""
    if len(block) != BLOCK_SIZE:
        raise CardDataError(f"text block is {len(block)} bytes, not {BLOCK_SIZE}")
    mark = card_mark(block)
    layout = LAYOUTS.get(mark)
    if layout is None:
        raise UnsupportedCard(f"unknown card type mark U+{ord(mark[0]):04X}")

    def text(name: str) -> str:
        offset, size = layout[name]
        try:
            value = block[offset : offset + size].decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise CardDataError(f"field {name} is not UCS-2 text") from exc
        return value.replace("\x00", " ").strip()

    sex_code = text("sex")
    if sex_code not in SEX_BY_CODE:
        raise CardDataError("field sex holds an unknown code")
    ethnicity = None
    if "ethnicity" in layout and text("ethnicity"):
        ethnicity = ETHNICITY_BY_CODE.get(text("ethnicity"))
        if ethnicity is None:
            raise CardDataError("field ethnicity holds an unknown code")
    english_name = None
    if "english_name" in layout:
        offset, size = layout["english_name"]
        raw = block[offset : offset + size]
        if "english_name_2" in layout:
            offset2, size2 = layout["english_name_2"]
            raw += block[offset2 : offset2 + size2]
        try:
            english_name = raw.decode("utf-16-le").replace("\x00", " ").strip() or None
        except UnicodeDecodeError as exc:
            raise CardDataError("field english_name is not UCS-2 text") from exc
    valid_to_text = text("valid_to")

    def optional(name: str) -> str | None:
        return (text(name) or None) if name in layout else None

    return IdCard(
        card_type=CARD_TYPE_BY_MARK[mark],
        name=text("name"),
        sex=SEX_BY_CODE[sex_code],
        ethnicity=ethnicity,
        birth_date=parse_yyyymmdd(text("birth_date"), "field birth_date"),
        address=text("address") if "address" in layout else "",
        id_number=text("id_number"),
        issuer=text("issuer") if "issuer" in layout else "",
        valid_from=parse_yyyymmdd(text("valid_from"), "field valid_from"),
        valid_to=None if valid_to_text == LONG_TERM else parse_yyyymmdd(valid_to_text, "field valid_to"),
        photo=photo,
        permit_number=optional("permit_number"),
        issue_count=optional("issue_count"),
        english_name=english_name,
        nationality=optional("nationality"),
        card_version=optional("card_version"),
        old_number_link=optional("old_number_link"),
    )


def encode_text_block(card: IdCard) -> bytes:
    """The 256-byte block a card would hold (for the simulator). Raises ``ValueError``."""
    mark = _mark_for(card)
    layout = LAYOUTS[mark]
    chars = [" "] * (BLOCK_SIZE // 2)

    def put(name: str, value: str | None) -> None:
        offset, size = layout[name]
        value = value or ""
        if len(value) > size // 2:
            raise ValueError(f"field {name} is longer than {size // 2} characters")
        chars[offset // 2 : offset // 2 + len(value)] = list(value)

    put("name", card.name)
    put("sex", CODE_BY_SEX[card.sex])
    if "ethnicity" in layout and card.ethnicity:
        put("ethnicity", CODE_BY_ETHNICITY[card.ethnicity])
    put("birth_date", card.birth_date.strftime("%Y%m%d"))
    if "address" in layout:
        put("address", card.address)
    put("id_number", card.id_number)
    if "issuer" in layout:
        put("issuer", card.issuer)
    put("valid_from", card.valid_from.strftime("%Y%m%d"))
    put("valid_to", LONG_TERM if card.valid_to is None else card.valid_to.strftime("%Y%m%d"))
    for name in ("permit_number", "issue_count", "nationality", "card_version", "old_number_link"):
        if name in layout:
            put(name, getattr(card, name))
    if "english_name" in layout:
        english = card.english_name or ""
        first = layout["english_name"][1] // 2
        put("english_name", english[:first])
        if "english_name_2" in layout:
            put("english_name_2", english[first:])
        elif len(english) > first:
            raise ValueError("field english_name is too long")
    chars[TYPE_OFFSET // 2] = mark
    return "".join(chars).encode("utf-16-le")


def _mark_for(card: IdCard) -> str:
    if card.card_type == CARD_RESIDENT:
        return " "
    if card.card_type == CARD_HK_MACAU_TAIWAN:
        return "J"
    if card.card_type == CARD_FOREIGN_PERMANENT:
        # The 2023 card has an 18-character number; the older one a 15-character one.
        return "Y" if len(card.id_number) == 18 else "I"
    raise ValueError(f"unknown card type {card.card_type!r}")


def parse_yyyymmdd(value: str, what: str) -> date:
    """A card's eight-digit date (the SAM's text, a PC/SC card's BCD as hex); else ``CardDataError``."""
    if len(value) != 8 or not value.isdigit():
        raise CardDataError(f"{what} is not a YYYYMMDD date")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise CardDataError(f"{what} is not a valid date") from exc
