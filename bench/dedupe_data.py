"""A labelled de-duplication benchmark built from real records, with realistic variants.

Nothing here is shipped: the records come from the third-party files in ``../shared/data``
(read at run time) and the generator turns them into what several database exports of one
search look like. Every record keeps the id of the work it copies (``work_id``), so pair
precision and recall can be measured exactly. Same ``random_state``, same benchmark.

Base works (each a real record, the pool de-duplicated by DOI and by title first):
Web of Science (wostools' 500-record export), biomedical RIS exports (asreview's demo
data), two curated BibTeX databases (iridia, bibliotex: physics, operations research, book
chapters) and ML conference papers (airas), software-engineering records (fastread).

Each work is found by one to five "databases" (a Poisson-like mix, some found twice by one
database). Each copy is written in its database's style and damaged the way exports are:

- titles: case, punctuation and hyphens changed; one or two typos; a language tag
  ("[Japanese]", "[Article in German]"); markup (``<i>``, ``&amp;``); a MEDLINE translated
  title in brackets; a subtitle dropped;
- DOIs: missing, upper case, ``https://doi.org/`` or ``doi:`` prefixes, percent-encoded;
- authors: ``Family, Given``, ``Family GI``, ``G. Family``, ``Given Family``, accents
  dropped or transliterated (ü -> ue), the list cut to three, a typo, missing;
- journals: the real abbreviation when the record carries one (Web of Science ``JI``/``J9``,
  RIS ``J2``), else an ISO 4-style one, upper case, missing; page forms ``405-8``,
  ``405–408``, ``pp. 405-408``, first page only; volume, issue or abstract missing; the
  abstract with a copyright line or "[ABSTRACT FROM AUTHOR]"; the year off by one.

Hard non-duplicates, each its own work:

- chapters of one book sharing the book's DOI (real chapter DOIs ``..._N`` of one book,
  written as the book's DOI by some databases);
- abstracts of one "supplement" sharing one DOI (papers of one journal volume, which
  Embase-style copies give the DOI of the first paper of the group);
- errata and corrections ("Erratum: <title>", "Correction to: <title>");
- preprints of a work (arXiv, bioRxiv, medRxiv, SSRN; no DOI, year before), which
  de-duplication must not merge with the published record;
- same first author, same year, similar titles: the pool's own neighbours, sampled on
  purpose.
"""

from __future__ import annotations

import json
import re
import unicodedata
import warnings
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from toolkit.corpus import load_corpus, normalise_title, records_frame

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

DATABASES = ("PubMed", "Embase", "Scopus", "Web of Science", "PsycINFO", "Google Scholar")
_ABBREV_FIELDS = ("ji", "j9", "J2", "JA", "JI", "J9", "ta", "TA", "JO", "journal_abbrev")
_ISO4 = {
    "journal": "J", "international": "Int", "research": "Res", "clinical": "Clin",
    "medicine": "Med", "medical": "Med", "science": "Sci", "sciences": "Sci",
    "physics": "Phys", "physical": "Phys", "review": "Rev", "reviews": "Rev",
    "applied": "Appl", "american": "Am", "european": "Eur", "british": "Br",
    "letters": "Lett", "transactions": "Trans", "proceedings": "Proc", "society": "Soc",
    "psychology": "Psychol", "psychiatry": "Psychiatry", "education": "Educ",
    "educational": "Educ", "technology": "Technol", "engineering": "Eng",
    "computer": "Comput", "computing": "Comput", "operational": "Oper",
    "operations": "Oper", "materials": "Mater", "chemistry": "Chem", "chemical": "Chem",
    "biology": "Biol", "biological": "Biol", "health": "Health", "public": "Public",
    "management": "Manag", "information": "Inf", "systems": "Syst", "annals": "Ann",
    "evolutionary": "Evol", "computation": "Comput", "nuclear": "Nucl",
    "instruments": "Instrum", "methods": "Methods", "magnetics": "Magn",
    "magnetism": "Magn", "magnetic": "Magn", "software": "Softw", "quarterly": "Q",
    "national": "Natl", "academy": "Acad", "environmental": "Environ",
    "epidemiology": "Epidemiol", "surgery": "Surg", "oncology": "Oncol",
    "neuroscience": "Neurosci", "behavior": "Behav", "behavioral": "Behav",
    "disorders": "Disord", "association": "Assoc", "statistics": "Stat",
    "mathematical": "Math", "mathematics": "Math", "economics": "Econ",
}
_VENUE_STOP = {"of", "the", "and", "for", "in", "on", "&"}
_LANGUAGE_TAGS = (" [Japanese]", " [Article in German]", " (Spanish)", " [French]",
                  " [Article in Chinese]", " [In Russian]", " [Polish]",
                  " [Text in Portuguese with English abstract]")
_PREPRINT_SERVERS = ("arXiv", "bioRxiv", "medRxiv", "SSRN Electronic Journal",
                     "Research Square")
_NOTICES = ("Erratum: {}", "Correction to: {}", "Corrigendum to \"{}\"", "Erratum to: {}")
_COPYRIGHT = (" © {year} Elsevier Ltd. All rights reserved.", " [ABSTRACT FROM AUTHOR]",
              " Copyright © {year} John Wiley & Sons, Ltd.", " (PsycINFO Database Record (c) "
              "{year} APA, all rights reserved)")


# --- the pool of real works -------------------------------------------------------------

def _quiet_load(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_corpus(path).records


def _abbrevs(extra: tuple) -> tuple[str, ...]:
    found = []
    for name, value in extra or ():
        if name in _ABBREV_FIELDS and value and len(value) < 120:
            found.append(str(value).strip())
    return tuple(dict.fromkeys(found))


_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")


def _split_name(name: str) -> tuple[str, str]:
    """``(family, given)`` from "Family, Given", "Family GI" or "Given Family"."""
    name = " ".join(str(name).split())
    if "," in name:
        family, given = name.split(",", 1)
        return family.strip(), given.strip()
    parts = name.split(" ")
    if len(parts) == 1:
        return name, ""
    if _INITIALS.match(parts[-1]):
        return " ".join(parts[:-1]), parts[-1]
    return parts[-1], " ".join(parts[:-1])


def _from_records(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    out = pd.DataFrame({
        "title": frame["title"], "authors": frame["authors"], "year": frame["year"],
        "venue": frame["venue"], "volume": frame["volume"], "issue": frame["issue"],
        "pages": frame["pages"], "doi": frame["doi"], "abstract": frame["abstract"],
        "entry_type": frame["entry_type"],
        "abbrevs": frame["extra"].map(_abbrevs), "origin": origin,
    })
    return out


def _airas(shared: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((shared / "abstracts" / "airas_papers_db").glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            conference = {"iclr": "International Conference on Learning Representations",
                          "icml": "International Conference on Machine Learning",
                          "neurips": "Advances in Neural Information Processing Systems",
                          "cvpr": "IEEE/CVF Conference on Computer Vision and Pattern "
                                  "Recognition"}.get(item.get("conference", ""), None)
            rows.append({"title": item.get("title"), "authors": tuple(
                f"{_split_name(a)[0]}, {_split_name(a)[1]}".strip(", ")
                for a in item.get("authors") or ()),
                "year": item.get("year"), "venue": conference, "volume": None, "issue": None,
                "pages": None, "doi": None, "abstract": item.get("abstract"),
                "entry_type": "inproceedings", "abbrevs": (), "origin": "airas"})
    return pd.DataFrame(rows)


def _kitchenham(shared: Path) -> pd.DataFrame:
    """Kitchenham's CSV writes all authors in one cell, "Given Family, Given Family"."""
    frame = _from_records(_quiet_load(shared / "abstracts" / "fastread_kitchenham"
                                      / "Kitchenham.csv"), "kitchenham")

    def split(authors: tuple) -> tuple:
        names = [n.strip() for a in authors for n in re.split(r",|\band\b", str(a))
                 if n.strip()]
        if any(len(n.split()) < 2 or n.isupper() or n.lower().startswith("by ")
               for n in names):
            return ()  # initials-only or garbled cells: not a usable author list
        return tuple(f"{_split_name(n)[0]}, {_split_name(n)[1]}" for n in names)

    frame["authors"] = frame["authors"].map(split)
    return frame


def load_pool(shared: Path = SHARED) -> pd.DataFrame:
    """Return the real works the benchmark copies, one row per work, de-duplicated.

    Raises FileNotFoundError when ``shared`` is absent.
    """
    if not shared.is_dir():
        raise FileNotFoundError(f"{shared}: ../shared/data is absent; the de-duplication "
                                "benchmark reads its records from there")
    messy = shared / "messy"
    demo = messy / "ris" / "asreview_tests_demo_data"
    parts = [
        _from_records(_quiet_load(messy / "wos" / "python_wostools_examples"
                                  / "bit-pattern-savedrecs.txt"), "wos"),
        _from_records(pd.concat([_quiet_load(demo / name) for name in (
            "_baseline.ris", "web_of_science.txt", "embase.ris", "scopus.ris",
            "ovid_zotero.ris", "pubmed_zotero.ris", "pubmed_endnote.txt", "proquest.ris",
            "ris_issue_1099.txt")], ignore_index=True), "biomedical"),
        _from_records(_quiet_load(messy / "bibtex" / "iridia_ulb_references"), "iridia"),
        _from_records(_quiet_load(messy / "bibtex" / "bibliotex_mit"), "bibliotex"),
        _kitchenham(shared),
        _airas(shared),
    ]
    pool = pd.concat(parts, ignore_index=True)
    pool = pool[pool["title"].notna() & (pool["title"].astype(str).str.len() >= 12)]
    pool = pool[pool["authors"].map(len) > 0]
    pool = pool[pool["entry_type"].fillna("") != "proceedings"]
    pool["doi"] = pool["doi"].astype(object).where(pool["doi"].notna(), None)
    pool["doi"] = pool["doi"].map(lambda d: str(d).lower() if d else None)
    pool["norm"] = pool["title"].map(normalise_title)
    pool = pool[pool["norm"].str.len() >= 12]
    # one row per DOI and per title: the pool must hold distinct works only
    with_doi = pool[pool["doi"].notna()].drop_duplicates("doi")
    pool = pd.concat([with_doi, pool[pool["doi"].isna()]], ignore_index=True)
    pool = pool.drop_duplicates("norm").reset_index(drop=True)
    pool = pool.drop(index=_near_twins(pool)).reset_index(drop=True)
    return pool.drop(columns="norm")


def _near_twins(pool: pd.DataFrame) -> list[int]:
    """Rows with an earlier near twin: same first author, title similarity >= 85, years
    within 2 (a report and its article, a conference paper and its journal version, or two
    exports of one work in one file). Which of these are one work cannot be told without
    reading them, so the later of each set leaves the pool."""
    from rapidfuzz import fuzz, process

    family = pool["authors"].map(lambda a: _strip_accents(_split_name(a[0])[0]).lower()
                                 if a else "")
    year = pool["year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    drop: set[int] = set()
    for _name, members in pool.groupby(family).groups.items():
        if len(members) < 2 or not _name:
            continue
        index = list(members)
        scores = process.cdist(pool.loc[index, "norm"].tolist(), pool.loc[index, "norm"].tolist(),
                               scorer=fuzz.ratio, score_cutoff=85)
        for a in range(len(index)):
            for b in range(a + 1, len(index)):
                gap = abs(year[index[a]] - year[index[b]])
                if scores[a, b] and not gap > 2 and index[a] not in drop:
                    drop.add(index[b])
    # and the same title (>= 90) within a year whoever is first author (author order
    # differs between two records of one work)
    years = pool["year"].astype("Float64")
    by_year = {y: list(m) for y, m in pool.groupby(years).groups.items()}
    for y, members in sorted(by_year.items()):
        near = members + by_year.get(y + 1, [])
        left = [i for i in members if i not in drop]
        right = [i for i in near if i not in drop]
        if not left or len(right) < 2:
            continue
        scores = process.cdist(pool.loc[left, "norm"].tolist(), pool.loc[right, "norm"].tolist(),
                               scorer=fuzz.ratio, score_cutoff=90, dtype=np.uint8, workers=-1)
        for a, b in zip(*np.nonzero(scores), strict=True):
            first, second = sorted((left[a], right[b]))
            if first != second and first not in drop:
                drop.add(second)
    return sorted(drop)


# --- variants ---------------------------------------------------------------------------

def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value) \
        or (isinstance(value, str) and not value.strip())


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def _typo(text: str, rng: np.random.Generator) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 8:
        return text
    pos = int(rng.choice(letters[1:]))
    kind = rng.integers(4)
    if kind == 0:  # substitution
        return text[:pos] + str(rng.choice(list("abcdefghilmnoprstu"))) + text[pos + 1:]
    if kind == 1:  # deletion
        return text[:pos] + text[pos + 1:]
    if kind == 2 and pos + 1 < len(text):  # transposition
        return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2:]
    return text[:pos] + text[pos] + text[pos:]  # doubled letter


def _title_variant(title: str, style: str, rng: np.random.Generator) -> str:
    if style == "Web of Science" and rng.random() < 0.3:
        title = title.upper()
    r = rng.random()
    if r < 0.08:
        title = title.lower()
    elif r < 0.16:
        title = title.title()
    if rng.random() < 0.25:
        title = title.rstrip(".") + "." if not title.endswith(".") else title.rstrip(".")
    if rng.random() < 0.08:
        title = title.replace(": ", " - ")
    if rng.random() < 0.08:
        title = title.replace("-", " " if rng.random() < 0.5 else "")
    if rng.random() < 0.04 and ": " in title and len(title.split(": ")[0].split()) >= 4:
        title = title.split(": ")[0]  # subtitle dropped
    for _ in range(int(rng.random() < 0.10) + int(rng.random() < 0.03)):
        title = _typo(title, rng)
    if style in ("PubMed", "Embase") and rng.random() < 0.08:
        title = title.rstrip(".") + str(rng.choice(_LANGUAGE_TAGS))
    elif style == "PubMed" and rng.random() < 0.02:
        title = "[" + title.rstrip(".") + "]."
    if rng.random() < 0.04:
        words = title.split(" ")
        k = int(rng.integers(len(words)))
        words[k] = f"<i>{words[k]}</i>"
        title = " ".join(words)
    if "&" in title and rng.random() < 0.5:
        title = title.replace("&", "&amp;")
    return title


def _doi_variant(doi: str | None, style: str, rng: np.random.Generator) -> str | None:
    if _missing(doi):
        return None
    drop = {"Google Scholar": 0.85, "PubMed": 0.25, "Embase": 0.15}.get(style, 0.1)
    if rng.random() < drop:
        return None
    r = rng.random()
    if r < 0.05:
        prefix, suffix = doi.split("/", 1)
        return f"{prefix}/{quote(suffix, safe='.-_')}"  # percent-encoded
    if r < 0.25:
        return "https://doi.org/" + doi
    if r < 0.30:
        return "doi:" + doi
    if r < 0.50 or style == "Web of Science":
        return doi.upper()
    return doi


def _author_variant(authors: tuple, style: str, rng: np.random.Generator) -> tuple:
    if not authors or rng.random() < 0.02:
        return ()
    names = []
    accents = rng.random()
    for name in authors:
        family, given = _split_name(name)
        initials = "".join(w[0] for w in re.split(r"[\s.-]+", given) if w)
        if accents < 0.15:
            family, given = _strip_accents(family), _strip_accents(given)
        elif accents < 0.20:
            family = family.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
        if style == "PubMed":
            names.append(f"{family} {initials}".strip())
        elif style == "Embase":
            names.append(f"{family} {'.'.join(initials)}.".strip(" ."))
        elif style == "Web of Science":
            names.append(f"{family}, {initials}" if initials else family)
        elif style == "Google Scholar":
            names.append(f"{initials} {family}".strip())
        elif style == "Scopus":
            names.append(f"{family}, {'. '.join(initials)}." if initials else family)
        else:
            names.append(f"{family}, {given}" if given else family)
    if len(names) > 3 and rng.random() < 0.05:
        names = names[:3]
    if rng.random() < 0.03:
        k = int(rng.integers(len(names)))
        names[k] = _typo(names[k], rng)
    return tuple(names)


def _iso_abbreviation(venue: str) -> str:
    words = [w for w in re.split(r"[\s,:]+", venue) if w and w.lower() not in _VENUE_STOP]
    return " ".join(_ISO4.get(w.lower(), w) for w in words)


def _venue_variant(venue: str | None, abbrevs: tuple, style: str,
                   rng: np.random.Generator) -> str | None:
    if _missing(venue) or rng.random() < 0.05:
        return None
    if style in ("PubMed", "Google Scholar") or rng.random() < 0.2:
        venue = str(rng.choice(list(abbrevs))) if abbrevs else _iso_abbreviation(venue)
    if style == "Web of Science" or rng.random() < 0.05:
        venue = venue.upper()
    return venue


def _pages_variant(pages: str | None, rng: np.random.Generator) -> str | None:
    if _missing(pages) or rng.random() < 0.08:
        return None
    match = re.fullmatch(r"(\d+)\s*-+\s*(\d+)", str(pages))
    if not match:
        return pages
    first, last = match.groups()
    r = rng.random()
    if r < 0.2 and len(first) == len(last):
        keep = next((k for k in range(len(first)) if first[k] != last[k]), len(last) - 1)
        return f"{first}-{last[keep:]}"
    if r < 0.3:
        return f"{first}–{last}"
    if r < 0.35:
        return f"pp. {first}-{last}"
    if r < 0.45:
        return first
    return pages


def _abstract_variant(abstract: str | None, year: object, style: str,
                      rng: np.random.Generator) -> str | None:
    if _missing(abstract) or style == "Google Scholar" or rng.random() < 0.12:
        return None
    text = str(abstract)
    if rng.random() < 0.08:
        text = text[: max(80, len(text) // 2)]
    if style in ("Embase", "Scopus", "PsycINFO") and rng.random() < 0.35:
        text += str(rng.choice(_COPYRIGHT)).format(year="" if _missing(year) else year)
    if rng.random() < 0.03:
        text = "<p>" + text + "</p>"
    return text


def _copy(work: pd.Series, style: str, rng: np.random.Generator) -> dict:
    year = work["year"]
    if not _missing(year) and rng.random() < 0.05:
        year = int(year) + int(rng.choice([-1, 1]))
    elif rng.random() < 0.01:
        year = None
    return {
        "title": _title_variant(str(work["title"]), style, rng),
        "authors": _author_variant(tuple(work["authors"]), style, rng),
        "year": year,
        "venue": _venue_variant(work["venue"], work["abbrevs"], style, rng),
        "volume": None if rng.random() < 0.08 else work["volume"],
        "issue": None if rng.random() < 0.15 else work["issue"],
        "pages": _pages_variant(work["pages"], rng),
        "doi": _doi_variant(work["doi"], style, rng),
        "abstract": _abstract_variant(work["abstract"], work["year"], style, rng),
        "entry_type": work["entry_type"],
    }


# --- the benchmark ----------------------------------------------------------------------

#: Share of the sampled works taken from each origin (the rest of a share left unused when
#: an origin is smaller goes to the ML papers).
_QUOTAS = {"wos": 0.17, "biomedical": 0.05, "iridia": 0.25, "bibliotex": 0.23,
           "kitchenham": 0.10, "airas": 0.20}


def _sample_works(pool: pd.DataFrame, n_works: int, rng: np.random.Generator) -> pd.DataFrame:
    """Pick works per origin; every chapter group whole; same-author-same-year neighbours."""
    fam = pool["authors"].map(lambda a: _split_name(a[0])[0].lower() if a else "")
    key = fam + "|" + pool["year"].astype(str)
    chapter = pool["doi"].fillna("").str.contains(r"^10\.1007/.+_\d+$")
    book = pool["doi"].fillna("").str.replace(r"_\d+$", "", regex=True)
    groups = book[chapter].value_counts()
    picked = set(pool.index[chapter & book.isin(groups[groups >= 2].index)].tolist())
    if n_works >= len(pool):
        return pool
    for origin, share in _QUOTAS.items():
        members = pool.index[pool["origin"] == origin].difference(list(picked))
        want = int(round(share * n_works)) - len(picked & set(members))
        if origin == "airas":
            want = n_works - len(picked)
        want = max(0, min(want, len(members)))
        if not want:
            continue
        # half of them chosen among works whose first author has another work that year
        near = members[key[members].duplicated(keep=False) & (fam[members] != "")]
        n_near = min(len(near), want // 2)
        chosen = set(rng.choice(near, size=n_near, replace=False).tolist()) if n_near else set()
        others = members.difference(list(chosen))
        chosen |= set(rng.choice(others, size=min(len(others), want - n_near),
                                 replace=False).tolist())
        picked |= chosen
    return pool.loc[sorted(picked)]


def make_benchmark(pool: pd.DataFrame, *, n_works: int = 3000, mean_copies: float = 2.2,
                   random_state: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(records, truth)``: a records table and ``record_id -> work_id, role``.

    ``role`` is ``copy`` for copies of a base work, ``notice`` for errata and corrections,
    ``preprint`` for preprints (each its own work), so results can be broken down.
    """
    rng = np.random.default_rng(random_state)
    works = _sample_works(pool, n_works, rng).reset_index(drop=True)
    works["work_id"] = [f"W{i:06d}" for i in range(len(works))]
    book = works["doi"].fillna("").str.replace(r"_\d+$", "", regex=True)
    is_chapter = works["doi"].fillna("").str.contains(r"^10\.1007/.+_\d+$")
    # "supplements": the papers of a few journal volumes, which Embase-style copies give the
    # DOI of the volume's first paper (a DOI that really exists; none is made up)
    volume_key = works["venue"].fillna("") + "|" + works["volume"].fillna("").astype(str)
    supplement_doi: dict[int, str] = {}
    for _key, members in works[works["doi"].notna() & works["venue"].notna()
                               & works["volume"].notna()].groupby(volume_key):
        if len(members) >= 4 and rng.random() < 0.5:
            shared_doi = members["doi"].iloc[0]
            for index in members.index[1:]:
                supplement_doi[index] = shared_doi
    rows, truth = [], []
    counter = {db: 0 for db in DATABASES}

    def emit(record: dict, database: str, work_id: str, role: str) -> None:
        counter[database] += 1
        slug = database.lower().replace(" ", "")
        record_id = f"{slug}-{counter[database]:06d}"
        rows.append({**record, "record_id": record_id, "database": database,
                     "source_file": f"{slug}.ris", "source_line": counter[database]})
        truth.append({"record_id": record_id, "work_id": work_id, "role": role})

    lam = max(mean_copies - 1.0, 0.0)
    for index, work in works.iterrows():
        copies = min(1 + int(rng.poisson(lam)), len(DATABASES))
        databases = list(rng.choice(DATABASES, size=copies, replace=False))
        if rng.random() < 0.03:
            databases.append(databases[0])  # found twice by one database
        for database in databases:
            record = _copy(work, str(database), rng)
            if is_chapter[index] and record["doi"] and rng.random() < 0.6:
                record["doi"] = book[index]  # the book's DOI instead of the chapter's
            if index in supplement_doi:
                record["doi"] = supplement_doi[index] if database in ("Embase", "Scopus") \
                    else None
            emit(record, str(database), work["work_id"], "copy")
        if rng.random() < 0.02:
            notice = {**_copy(work, "Scopus", rng), "doi": None, "abstract": None,
                      "pages": None}
            notice["title"] = str(rng.choice(_NOTICES)).format(work["title"])
            if rng.random() < 0.5:
                notice["authors"] = ()
            emit(notice, "Scopus", f"{work['work_id']}-notice", "notice")
        if not _missing(work["abstract"]) and rng.random() < 0.03:
            preprint = {**_copy(work, "Google Scholar", rng), "doi": None, "volume": None,
                        "issue": None, "pages": None, "abstract": work["abstract"]}
            preprint["venue"] = str(rng.choice(_PREPRINT_SERVERS))
            if not _missing(work["year"]) and rng.random() < 0.7:
                preprint["year"] = int(work["year"]) - 1
            emit(preprint, "Google Scholar", f"{work['work_id']}-preprint", "preprint")
    order = rng.permutation(len(rows))
    records = records_frame([rows[i] for i in order])
    if "database" not in records.columns:  # records tables before the database column
        database = pd.Series([rows[i]["database"] for i in order], dtype="string")
        records.insert(records.columns.get_loc("source_file"), "database", database)
    truth_frame = pd.DataFrame([truth[i] for i in order])
    return records, truth_frame
