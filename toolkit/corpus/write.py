r"""Write a records table back out as BibTeX or RIS.

Both writers keep everything a record holds: ``load -> write -> load`` gives the same
records (columns and ``extra``), and so do ``bib -> ris -> bib`` and ``ris -> bib -> ris``
(tested; ``database``, ``source_file`` and ``source_line`` describe the file read, so they
follow the new file).

BibTeX: text is escaped so that the reader gives back exactly the text written (``\``,
braces, ``$ & % # _ ~ ^``, and the ligatures ``--``, ``````, ``''`` that LaTeX would turn into
dashes and quotes); URL-like fields are escaped the way ``\url`` reads them; braces are
always balanced, so no value can close its entry and smuggle another one in. ``extra``
fields are written under their names (a second value of a field as a repeated field, which
the reader keeps in ``extra`` again).

RIS: one tag line per value, newlines folded into spaces (a value can never start a tag
line). ``extra`` fields with a RIS tag use it (``language`` -> ``LA``, ``ris_c3`` -> ``C3``);
the others are written as ``N1  - slr:<name> = <value>`` notes, which other tools show as
notes and this reader turns back into the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._io import atomic_write_text
from toolkit.corpus._clean import field_key
from toolkit.corpus._schema import source_group_for, source_type_for
from toolkit.corpus.bibtex import VENUE_FIELDS
from toolkit.corpus.ris import ENTRY_RIS_TYPES, RIS_ENTRY_TYPES, ris_tag_for

__all__ = ["write_bibtex", "write_ris", "format_bibtex", "format_ris", "escape_bibtex"]

_VENUE_FIELD = {entry_type: names[0] for entry_type, names in VENUE_FIELDS.items()}
_PUBLISHER_FIELD = {
    "techreport": "institution", "report": "institution", "phdthesis": "school",
    "mastersthesis": "school", "thesis": "school", "manual": "organization",
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                "dec")
_VERBATIM = {"url", "doi", "file", "eprint", "crossref", "ids", "pdf", "urldate"}
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "$": r"\$", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_TEXT_SPECIAL = re.compile(r"[\\$&%#_~^{}]|-(?=-)|`(?=`)|'(?=')")
_KEY_BAD = re.compile(r"[\s,{}()=\"#%'\\~]")
_FIELD_BAD = re.compile(r"[\s,{}()=\"#%'\\~@]")


def _present(value: Any) -> bool:
    if value is None or value is pd.NA:
        return False
    if isinstance(value, float) and value != value:
        return False
    if isinstance(value, (tuple, list)):
        return len(value) > 0
    return str(value).strip() != ""


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def escape_bibtex(text: str) -> str:
    r"""Escape ``text`` so that the BibTeX reader gives it back unchanged.

    Examples
    --------
    >>> escape_bibtex("R&D at 50% -- {x} ~65 h")
    'R\\&D at 50\\% -{}- \\{x\\} \\textasciitilde{}65 h'
    """
    text = " ".join(str(text).split())
    braces = ({"{": r"\{", "}": r"\}"} if _balanced(text) else
              {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"})

    def one(match: re.Match[str]) -> str:
        char = match.group()
        if char in braces:
            return braces[char]
        if char in "-`'":
            return char + "{}"
        return _TEXT_ESCAPES[char]

    return _TEXT_SPECIAL.sub(one, text)


def _escape_verbatim(text: str) -> str:
    text = " ".join(str(text).split())
    text = text.replace("\\", "\\\\").replace("%", "\\%").replace("#", "\\#")
    if _balanced(text):
        return text.replace("{", "\\{").replace("}", "\\}")
    return text.replace("{", "%7B").replace("}", "%7D")


def _bib_name(name: str) -> str:
    family, comma, rest = str(name).partition(",")
    if not comma:
        return "{" + escape_bibtex(name) + "}"
    parts = [family.strip(), *[p.strip() for p in rest.split(",")]]
    out = []
    for index, part in enumerate(parts):
        escaped = escape_bibtex(part)
        risky = re.search(r"\band\b", part, re.I) or (index == 0 and not part[:1].islower()
                                                     and " " in part)
        out.append("{" + escaped + "}" if risky else escaped)
    return ", ".join(out)


def _key(record_id: str) -> str:
    return _KEY_BAD.sub("_", str(record_id)) or "record"


def _field_name(name: str) -> str:
    clean = field_key(name)
    return _FIELD_BAD.sub("_", clean)


def _bib_entry(rec: dict[str, Any]) -> str:
    entry_type = re.sub(r"[^a-z0-9_-]", "", str(rec.get("entry_type") or "misc").lower()) \
        or "misc"
    fields: list[tuple[str, str]] = []
    if _present(rec.get("authors")):
        fields.append(("author", " and ".join(_bib_name(a) for a in rec["authors"])))
    if _present(rec.get("title")):
        fields.append(("title", escape_bibtex(rec["title"])))
    if _present(rec.get("venue")):
        fields.append((_VENUE_FIELD.get(entry_type, "journal"), escape_bibtex(rec["venue"])))
    if _present(rec.get("publisher")):
        fields.append((_PUBLISHER_FIELD.get(entry_type, "publisher"),
                       escape_bibtex(rec["publisher"])))
    if _present(rec.get("year")):
        fields.append(("year", str(int(rec["year"]))))
    for column, name in (("volume", "volume"), ("issue", "number")):
        if _present(rec.get(column)):
            fields.append((name, escape_bibtex(rec[column])))
    if _present(rec.get("pages")):
        fields.append(("pages", escape_bibtex(rec["pages"]).replace("-{}-", "-")
                       .replace("-", "--")))
    if _present(rec.get("doi")):
        fields.append(("doi", _escape_verbatim(rec["doi"])))
    if _present(rec.get("url")):
        fields.append(("url", _escape_verbatim(rec["url"])))
    for column in ("abstract", "note"):
        if _present(rec.get(column)):
            fields.append((column, escape_bibtex(rec[column])))
    if _present(rec.get("keywords")):
        fields.append(("keywords", escape_bibtex("; ".join(rec["keywords"]))))
    derived_type = source_type_for(entry_type)
    if _present(rec.get("source_type")) and rec["source_type"] != derived_type:
        fields.append(("sourcetype", escape_bibtex(rec["source_type"])))
    if _present(rec.get("source_group")) and rec["source_group"] != source_group_for(
            rec.get("source_type")):
        fields.append(("sourcegroup", escape_bibtex(rec["source_group"])))
    people: dict[str, list[str]] = {}
    for name, value in rec.get("extra") or ():
        if name in ("editor", "author"):
            people.setdefault(name, []).append(str(value))
    for name, names in people.items():
        fields.append((name, " and ".join(_bib_name(n) for n in names)))
    for name, value in rec.get("extra") or ():
        if name in ("editor", "author"):
            continue
        field = _field_name(name)
        fields.append((field, _escape_verbatim(value) if field in _VERBATIM
                       else escape_bibtex(value)))
    lines = [f"@{entry_type}{{{_key(rec['record_id'])},"]
    lines.extend(f"  {name} = {{{value}}}," for name, value in fields)
    if _present(rec.get("month")):
        lines.append(f"  month = {_MONTH_NAMES[int(rec['month']) - 1]},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def format_bibtex(records: pd.DataFrame) -> str:
    """Return BibTeX text for ``records`` (columns of :data:`toolkit.types.RECORD_COLUMNS`).

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([{"record_id": "k", "entry_type": "article", "title": "R&D",
    ...                         "authors": ("Doe, Jane",), "year": 2020, "venue": "J"}])
    >>> print(format_bibtex(frame))
    @article{k,
      author = {Doe, Jane},
      title = {R\\&D},
      journal = {J},
      year = {2020},
    }
    <BLANKLINE>
    """
    return "\n".join(_bib_entry(rec) for rec in records.to_dict("records"))


def write_bibtex(records: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``records`` as a BibTeX file, atomically.

    Parameters
    ----------
    records : DataFrame
        Records table (:data:`toolkit.types.RECORD_COLUMNS`).
    path : str or Path
        Target ``.bib`` file.
    overwrite : bool, default False
        Replace an existing file; otherwise an existing file raises
        :class:`toolkit._io.OutputExistsError`.

    Returns
    -------
    Path
    """
    return atomic_write_text(path, format_bibtex(records), overwrite=overwrite)


def _line(value: Any) -> str:
    return " ".join(str(value).split())


def _ris_reference(rec: dict[str, Any]) -> list[str]:
    extra = list(rec.get("extra") or ())
    entry_type = str(rec.get("entry_type") or "misc")
    ris_type = next((v for k, v in extra if k == "ris_ty"), None)
    if ris_type is None or RIS_ENTRY_TYPES.get(ris_type) != entry_type:
        ris_type = ENTRY_RIS_TYPES.get(entry_type, "GEN")
    lines = [("TY", ris_type), ("ID", rec["record_id"])]
    slr: list[tuple[str, str]] = []
    if RIS_ENTRY_TYPES.get(ris_type, "misc") != entry_type:
        slr.append(("entry_type", entry_type))
    derived = source_type_for(entry_type)
    if _present(rec.get("source_type")) and rec["source_type"] != derived:
        slr.append(("source_type", rec["source_type"]))
    if _present(rec.get("source_group")) and rec["source_group"] != source_group_for(
            rec.get("source_type")):
        slr.append(("source_group", rec["source_group"]))
    if _present(rec.get("title")):
        lines.append(("TI", rec["title"]))
    lines.extend(("AU", author) for author in rec.get("authors") or ())
    year = str(int(rec["year"])) if _present(rec.get("year")) else ""
    if _present(rec.get("month")):
        lines.append(("PY", f"{year}/{int(rec['month']):02d}//"))
    elif year:
        lines.append(("PY", year))
    columns = (("venue", "T2"), ("publisher", "PB"), ("volume", "VL"), ("issue", "IS"))
    for column, tag in columns:
        if _present(rec.get(column)):
            lines.append((tag, rec[column]))
    if _present(rec.get("pages")):
        start, dash, end = str(rec["pages"]).partition("-")
        lines.append(("SP", start if start else rec["pages"]))
        if dash and end:
            lines.append(("EP", end))
    for column, tag in (("doi", "DO"), ("url", "UR"), ("abstract", "AB")):
        if _present(rec.get(column)):
            lines.append((tag, rec[column]))
    lines.extend(("KW", keyword) for keyword in rec.get("keywords") or ())
    if _present(rec.get("note")):
        lines.append(("N1", rec["note"]))
    for name, value in extra:
        if name == "ris_ty":
            continue
        tag = ris_tag_for(name)
        if tag is not None and tag not in ("TY", "ER"):
            lines.append((tag, value))
        else:
            slr.append((name, value))
    lines.extend(("N1", f"slr:{_line(name).replace(' ', '_')} = {value}")
                 for name, value in slr)
    out = [f"{tag}  - {_line(value)}" for tag, value in lines]
    out.append("ER  - ")
    return out


def format_ris(records: pd.DataFrame) -> str:
    """Return RIS text for ``records``; the record id goes to ``ID``.

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([{"record_id": "k", "entry_type": "article", "title": "T",
    ...                         "year": 2020, "pages": "1-9"}])
    >>> print(format_ris(frame).strip())
    TY  - JOUR
    ID  - k
    TI  - T
    PY  - 2020
    SP  - 1
    EP  - 9
    ER  -
    """
    blocks = ["\n".join(_ris_reference(rec)) for rec in records.to_dict("records")]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def write_ris(records: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``records`` as an RIS file, atomically; see :func:`write_bibtex`."""
    return atomic_write_text(path, format_ris(records), overwrite=overwrite)
