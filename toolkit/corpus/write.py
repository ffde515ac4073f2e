"""Write a records table back out as BibTeX or RIS.

Both writers are lossless for the fields each format carries: ``load -> write -> load``
gives the same records for those columns (tested). Unicode is written as is (BibTeX
engines since biber and bibtex8 read UTF-8); only LaTeX's special characters are escaped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import rispy

from toolkit._io import atomic_write_text
from toolkit.corpus._schema import source_group_for, source_type_for
from toolkit.corpus.bibtex import VENUE_FIELDS
from toolkit.corpus.ris import ENTRY_RIS_TYPES

__all__ = ["write_bibtex", "write_ris", "format_bibtex", "format_ris"]

_VENUE_FIELD = {entry_type: names[0] for entry_type, names in VENUE_FIELDS.items()}
_PUBLISHER_FIELD = {
    "techreport": "institution", "report": "institution", "phdthesis": "school",
    "mastersthesis": "school", "thesis": "school", "manual": "organization",
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                "dec")
_BIB_FIELD = re.compile(r"^[a-z][a-z0-9_-]*$")
_RIS_TAG = re.compile(r"^[A-Z][A-Z0-9]$")
_SPECIAL = re.compile(r"([&%#_$])")


def _present(value: Any) -> bool:
    if value is None or value is pd.NA:
        return False
    if isinstance(value, float) and value != value:
        return False
    if isinstance(value, (tuple, list)):
        return len(value) > 0
    return str(value).strip() != ""


def _escape(text: str) -> str:
    text = text.replace("\\", "\\textbackslash{}")
    text = text.replace("{", "\\{").replace("}", "\\}").replace("\\textbackslash\\{\\}",
                                                                 "\\textbackslash{}")
    return _SPECIAL.sub(r"\\\1", text)


def _bib_name(name: str) -> str:
    return name if "," in name else "{" + _escape(name) + "}"


def _key(record_id: str) -> str:
    return re.sub(r"[\s,{}()=\"#%'\\]", "_", record_id)


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
    chunks = []
    for rec in records.to_dict("records"):
        entry_type = rec.get("entry_type") or "misc"
        fields: list[tuple[str, str]] = []
        if _present(rec.get("authors")):
            fields.append(("author", " and ".join(_bib_name(a) for a in rec["authors"])))
        if _present(rec.get("title")):
            fields.append(("title", _escape(rec["title"])))
        if _present(rec.get("venue")):
            fields.append((_VENUE_FIELD.get(entry_type, "journal"), _escape(rec["venue"])))
        if _present(rec.get("publisher")):
            fields.append((_PUBLISHER_FIELD.get(entry_type, "publisher"),
                           _escape(rec["publisher"])))
        if _present(rec.get("year")):
            fields.append(("year", str(int(rec["year"]))))
        for column, name in (("volume", "volume"), ("issue", "number")):
            if _present(rec.get(column)):
                fields.append((name, _escape(rec[column])))
        if _present(rec.get("pages")):
            fields.append(("pages", _escape(rec["pages"]).replace("-", "--")))
        if _present(rec.get("doi")):
            fields.append(("doi", rec["doi"]))
        if _present(rec.get("url")):
            fields.append(("url", rec["url"]))
        for column in ("abstract", "note"):
            if _present(rec.get(column)):
                fields.append((column, _escape(rec[column])))
        if _present(rec.get("keywords")):
            fields.append(("keywords", _escape("; ".join(rec["keywords"]))))
        derived_type = source_type_for(entry_type)
        if _present(rec.get("source_type")) and rec["source_type"] != derived_type:
            fields.append(("sourcetype", _escape(rec["source_type"])))
        if _present(rec.get("source_group")) and rec["source_group"] != source_group_for(
            rec.get("source_type")
        ):
            fields.append(("sourcegroup", _escape(rec["source_group"])))
        taken = {name for name, _ in fields}
        for name, value in rec.get("extra") or ():
            if _BIB_FIELD.match(name) and name not in taken and name not in ("month_raw",):
                verbatim = name in ("url", "doi", "file", "crossref")
                fields.append((name, value if verbatim else _escape(value)))
        lines = [f"@{entry_type}{{{_key(str(rec['record_id']))},"]
        lines.extend(f"  {name} = {{{value}}}," for name, value in fields)
        if _present(rec.get("month")):
            lines.insert(len(lines), f"  month = {_MONTH_NAMES[int(rec['month']) - 1]},")
        lines.append("}")
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


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


def _ris_reference(rec: dict[str, Any]) -> dict[str, Any]:
    extra = list(rec.get("extra") or ())
    ris_type = next((v for k, v in extra if k == "TY"), None)
    ref: dict[str, Any] = {
        "type_of_reference": ris_type or ENTRY_RIS_TYPES.get(rec.get("entry_type") or "", "GEN")
    }
    ref["id"] = rec["record_id"]
    if _present(rec.get("title")):
        ref["title"] = rec["title"]
    if _present(rec.get("authors")):
        ref["authors"] = list(rec["authors"])
    if _present(rec.get("year")):
        ref["year"] = str(int(rec["year"]))
    if _present(rec.get("month")):
        year = str(int(rec["year"])) if _present(rec.get("year")) else ""
        ref["date"] = f"{year}/{int(rec['month']):02d}//"
    mapping = {"venue": "secondary_title", "publisher": "publisher", "volume": "volume",
               "issue": "number", "doi": "doi", "abstract": "abstract"}
    for column, key in mapping.items():
        if _present(rec.get(column)):
            ref[key] = rec[column]
    if _present(rec.get("pages")):
        start, _, end = str(rec["pages"]).partition("-")
        ref["start_page"] = start
        if end:
            ref["end_page"] = end
    urls = [rec["url"]] if _present(rec.get("url")) else []
    urls += [v for k, v in extra if k == "UR"]
    if urls:
        ref["urls"] = urls
    if _present(rec.get("keywords")):
        ref["keywords"] = list(rec["keywords"])
    if _present(rec.get("note")):
        ref["notes"] = [rec["note"]]
    unknown: dict[str, list[str]] = {}
    known_tags = {tag for tag in rispy.TAG_KEY_MAPPING}
    for tag, value in extra:
        if not _RIS_TAG.match(tag) or tag in ("TY", "UR"):
            continue
        if tag in known_tags:
            ref.setdefault(rispy.TAG_KEY_MAPPING[tag], value)
        else:
            unknown.setdefault(tag, []).append(value)
    if unknown:
        ref["unknown_tag"] = unknown
    return ref


def format_ris(records: pd.DataFrame) -> str:
    """Return RIS text for ``records``; the record id goes to ``ID``.

    Examples
    --------
    >>> from toolkit.corpus import records_frame
    >>> frame = records_frame([{"record_id": "k", "entry_type": "article", "title": "T",
    ...                         "year": 2020, "pages": "1-9"}])
    >>> print(format_ris(frame).strip())
    1.
    TY  - JOUR
    ID  - k
    TI  - T
    PY  - 2020
    SP  - 1
    EP  - 9
    ER  -
    """
    return rispy.dumps([_ris_reference(rec) for rec in records.to_dict("records")])


def write_ris(records: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``records`` as an RIS file, atomically; see :func:`write_bibtex`."""
    return atomic_write_text(path, format_ris(records), overwrite=overwrite)

