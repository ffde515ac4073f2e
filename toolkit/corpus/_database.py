"""Which database or tool a record came from, recognised from the record and its file.

The ``database`` column feeds de-duplication ("which databases found this work") and the
per-database counts of a review. A name is given only from evidence in the file: a
database field (RIS ``DB``/``DP``, EndNote ``remote-database-name``, Scopus BibTeX
``source``), a database's own URLs, the column set of a CSV export, or a tool's header
line. Without evidence the format name stands (``"ris"``, ``"bibtex"``, ``"csv"``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["database_name", "database_from_urls", "combine", "csv_database",
           "bibtex_file_database", "FORMAT_NAMES"]

#: What ``database`` holds when a file gives no evidence of its database: the format's name.
FORMAT_NAMES = frozenset({"ris", "csv", "bibtex", "endnote-xml"})

#: Database names as exports write them (lower case) -> the name used in ``database``.
DATABASE_NAMES: dict[str, str] = {
    "scopus": "scopus", "embase": "embase", "embase classic": "embase", "medline": "medline",
    "ovid medline(r)": "medline", "medline(r)": "medline", "pubmed": "pubmed",
    "pubmed central": "pmc", "psycinfo": "psycinfo", "apa psycinfo": "psycinfo",
    "psycarticles": "psycarticles", "cinahl": "cinahl", "cinahl complete": "cinahl",
    "cinahl plus with full text": "cinahl", "eric": "eric", "web of science": "wos",
    "web of science core collection": "wos", "wos": "wos", "isi web of knowledge": "wos",
    "cochrane library": "cochrane", "cochrane central register of controlled trials":
    "cochrane", "ieee xplore": "ieee", "acm digital library": "acm", "lens": "lens",
    "lens.org": "lens", "dimensions": "dimensions", "google scholar": "google scholar",
    "proquest": "proquest", "ptsdpubs": "ptsdpubs", "econlit": "econlit",
    "business source complete": "business source complete", "academic search complete":
    "academic search complete", "global health": "global health", "cab abstracts": "cab",
    "sciencedirect": "sciencedirect", "jstor": "jstor", "semantic scholar": "semantic scholar",
    "openalex": "openalex", "crossref": "crossref",
}
#: Platforms that host several databases (the name then reads ``database/platform``).
PROVIDERS: dict[str, str] = {
    "ovid": "ovid", "ovid technologies": "ovid", "ebscohost": "ebsco", "ebsco": "ebsco",
    "ebsco publishing": "ebsco", "proquest": "proquest", "web of knowledge": "wos",
}
_URLS: tuple[tuple[str, str, str], ...] = (
    # (text in the URL, database, platform)
    ("scopus.com", "scopus", ""),
    ("webofscience.com", "wos", ""), ("webofknowledge.com", "wos", ""),
    ("isiknowledge.com", "wos", ""), ("embase.com", "embase", ""),
    ("ovidsp.ovid.com", "", "ovid"), ("ovidsp.tx.ovid.com", "", "ovid"),
    ("ebscohost.com", "", "ebsco"), ("search.proquest.com", "proquest", ""),
    ("www.proquest.com", "proquest", ""), ("lens.org", "lens", ""),
    ("app.dimensions.ai", "dimensions", ""), ("pubmed.ncbi.nlm.nih.gov", "pubmed", ""),
    ("ncbi.nlm.nih.gov/pubmed", "pubmed", ""), ("ieeexplore.ieee.org", "ieee", ""),
    ("dl.acm.org", "acm", ""), ("cochranelibrary.com", "cochrane", ""),
)
#: Ovid's ``D=`` database codes.
_OVID_CODES = (("psyc", "psycinfo"), ("emed", "embase"), ("emez", "embase"),
               ("emex", "embase"), ("embase", "embase"), ("medl", "medline"),
               ("mesz", "medline"), ("prem", "medline"), ("mdl", "medline"),
               ("cctr", "cochrane"), ("coch", "cochrane"), ("eric", "eric"),
               ("cagh", "global health"), ("econ", "econlit"))
_OVID_D = re.compile(r"[?&]D=([a-z]+)", re.I)


def database_name(value: str | None) -> tuple[str, str]:
    """Read a database field (``DB``, ``DP``, ``remote-database-name``) as (database, platform).

    Examples
    --------
    >>> database_name("Scopus"), database_name("EBSCOhost"), database_name("Ovid MEDLINE(R)")
    (('scopus', ''), ('', 'ebsco'), ('medline', 'ovid'))
    """
    if not value:
        return "", ""
    text = " ".join(str(value).split()).strip().lower()
    platform = ""
    if text.startswith("ovid "):
        platform, text = "ovid", text[5:]
    if text in PROVIDERS:
        return "", PROVIDERS[text]
    if text in DATABASE_NAMES:
        return DATABASE_NAMES[text], platform
    for name, canonical in DATABASE_NAMES.items():
        if text.startswith(name + " ") or text.startswith(name + "("):
            return canonical, platform
    return text, platform


def database_from_urls(urls: Iterable[str]) -> tuple[str, str]:
    """Recognise (database, platform) from a record's URLs.

    Examples
    --------
    >>> database_from_urls(["http://ovidsp.ovid.com/ovidweb.cgi?T=JS&D=psyc16&AN=1"])
    ('psycinfo', 'ovid')
    """
    database = platform = ""
    for url in urls:
        low = str(url).lower()
        for needle, name, host in _URLS:
            if needle in low:
                database = database or name
                platform = platform or host
                if host == "ovid" and not database:
                    code = _OVID_D.search(low)
                    if code:
                        database = next((n for prefix, n in _OVID_CODES
                                         if code.group(1).startswith(prefix)), "")
    return database, platform


def combine(database: str, platform: str, default: str) -> str:
    """Join database and platform (``embase/ovid``), or fall back to ``default``.

    Examples
    --------
    >>> combine("embase", "ovid", "ris"), combine("", "", "ris"), combine("scopus", "", "ris")
    ('embase/ovid', 'ris', 'scopus')
    """
    if database and platform and platform != database:
        return f"{database}/{platform}"
    return database or platform or default


def csv_database(columns: Iterable[str]) -> str:
    """Recognise a database's CSV/TSV export from its column names (lower case), else ``""``.

    Examples
    --------
    >>> csv_database(["key", "item type", "publication year", "abstract note"])
    'zotero'
    """
    cols = set(columns)
    if "eid" in cols and ("source title" in cols or "link" in cols):
        return "scopus"
    if "ut" in cols and "pt" in cols:
        return "wos"
    if {"item type", "publication year"} <= cols and ("abstract note" in cols
                                                       or "manual tags" in cols):
        return "zotero"
    if "lens id" in cols:
        return "lens"
    if "dimensions url" in cols or ("publication id" in cols and "pubyear" in cols):
        return "dimensions"
    if "pmid" in cols and ("citation" in cols or "create date" in cols):
        return "pubmed"
    if any(c.startswith("emtree") for c in cols):
        return "embase"
    if "pdf link" in cols and ("document title" in cols or "author affiliations" in cols):
        return "ieee"
    return ""


_BIB_HEADERS = (
    ("created with jabref", "jabref"), ("generated by mendeley", "mendeley"),
    ("created using bibdesk", "bibdesk"), ("generated by zotero", "zotero"),
    ("exported from zotero", "zotero"), ("citavi", "citavi"),
)


def bibtex_file_database(head: str) -> str:
    """Recognise the tool that wrote a BibTeX file from its first lines, else ``""``.

    Examples
    --------
    >>> bibtex_file_database("% This file was created with JabRef 5.1.")
    'jabref'
    """
    low = head[:2000].lower()
    return next((name for needle, name in _BIB_HEADERS if needle in low), "")
