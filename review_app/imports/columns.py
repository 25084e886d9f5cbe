"""The documented column set of a requirements file, and the header names accepted for each.

Ministries write headers in Russian, Kazakh or English, with or without units and punctuation, so a
header is matched after folding case, ``ё``, underscores and punctuation. Pure code: no Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEXT, NUMBER, AREA = "text", "number", "area"
#: Standard Cost Model inputs: one action per line (``review_app.scm.compute.parse_cell``).
SCM = "scm"


@dataclass(frozen=True)
class Column:
    #: The documented (English) name; also the Requirement attribute it fills, except area_code.
    name: str
    #: The header written in the example file and in exports for Russian-speaking users.
    russian: str
    #: The Kazakh header, accepted as well (and listed on the import page).
    kazakh: str = ""
    required: bool = False
    kind: str = TEXT
    #: Longest accepted value, in characters (None for numbers).
    max_length: int | None = None
    #: Other header names accepted for this column (Russian, Kazakh and English variants).
    aliases: tuple[str, ...] = ()

    @property
    def field(self) -> str:
        return "area_id" if self.kind == AREA else self.name


COLUMNS: tuple[Column, ...] = (
    Column("code", "Код требования", "Талап коды", required=True, max_length=64,
           aliases=("код", "идентификатор", "идентификатор требования", "номер требования",
                    "талаптың коды", "талап нөмірі", "requirement code", "id")),
    Column("area_code", "Код сферы", "Сала коды", required=True, kind=AREA, max_length=8,
           aliases=("код сферы регулирования", "код области", "код области регулирования",
                    "код направления", "сфера код", "реттеу саласының коды", "саланың коды",
                    "area", "area code")),
    Column("title", "Наименование", "Атауы", required=True, max_length=1000,
           aliases=("наименование требования", "название", "название требования", "заголовок",
                    "краткое наименование", "талаптың атауы", "талап атауы", "name")),
    Column("text", "Текст требования", "Талап мәтіні", required=True, max_length=50_000,
           aliases=("текст", "содержание требования", "формулировка", "формулировка требования",
                    "требование", "мәтін", "талаптың мәтіні", "requirement", "requirement text",
                    "wording")),
    Column("legal_act", "Нормативный правовой акт", "Нормативтік құқықтық акт",
           max_length=1000,
           aliases=("нпа", "наименование нпа", "правовой акт", "нормативный акт", "нқа",
                    "құқықтық акт", "act", "legal basis")),
    Column("legal_act_ref", "Реквизиты НПА", "НҚА деректемелері", max_length=200,
           aliases=("номер и дата нпа", "реквизиты акта", "номер и дата акта", "реквизиты",
                    "нқа нөмірі мен күні", "деректемелер", "act number", "act reference",
                    "legal act ref")),
    Column("article", "Статья, пункт", "Бап, тармақ", max_length=200,
           aliases=("статья", "пункт", "статья пункт", "структурная единица",
                    "структурная единица нпа", "бап", "тармақ", "clause")),
    Column("issuing_body", "Государственный орган", "Мемлекеттік орган", max_length=500,
           aliases=("госорган", "государственный орган регулятор", "регулирующий орган",
                    "уполномоченный орган", "орган", "реттеуші орган", "уәкілетті орган",
                    "body", "issuing authority", "regulator")),
    Column("oked", "ОКЭД", "ЭҚЖЖ", max_length=16,
           aliases=("код окэд", "вид деятельности окэд", "вид деятельности", "activity")),
    Column("annual_cost_kzt", "Годовые издержки, тенге", "Жылдық шығындар, теңге", kind=NUMBER,
           aliases=("годовые издержки", "издержки", "издержки бизнеса", "издержки в год",
                    "издержки тенге", "стоимость соблюдения", "стоимость соблюдения тенге",
                    "жылдық шығындар", "шығындар", "annual cost", "cost kzt",
                    "annual cost kzt")),
    Column("businesses_affected", "Количество субъектов", "Субъектілер саны", kind=NUMBER,
           aliases=("количество субъектов предпринимательства", "число субъектов",
                    "охват субъектов", "субъектов", "кәсіпкерлік субъектілерінің саны",
                    "businesses", "affected businesses")),
    # Optional: the Standard Cost Model inputs, one action per line:
    # "name; hours; tariff code or hourly ₸; outside costs ₸; times a year; share %".
    Column("scm_inputs", "Исходные данные модели стандартных издержек",
           "Стандартты шығындар моделінің деректері", kind=SCM, max_length=20_000,
           aliases=("модель стандартных издержек", "исходные данные смси", "смси",
                    "стандартная модель издержек", "действия по соблюдению",
                    "стандартты шығындар моделі", "шығындар моделі", "scm", "scm inputs",
                    "standard cost model")),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED: tuple[Column, ...] = tuple(c for c in COLUMNS if c.required)

_NOT_WORD = re.compile(r"[^\w]+|_+")


def fold_header(header: str) -> str:
    """``"Годовые издержки, тенге"`` → ``"годовые издержки тенге"``; ``"area_code"`` →
    ``"area code"``."""
    return " ".join(_NOT_WORD.sub(" ", header.casefold().replace("ё", "е")).split())


def _index() -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in COLUMNS:
        for name in (column.name, column.russian, column.kazakh, *column.aliases):
            key = fold_header(name)
            if key in index and index[key] is not column:
                raise AssertionError(f"header {name!r} is ambiguous")
            index[key] = column
    return index


HEADER_INDEX: dict[str, Column] = _index()


def match_header(header: str) -> Column | None:
    """The column a header names, or None when it names none we know."""
    return HEADER_INDEX.get(fold_header(header))
