"""REFI-QDA interchange: export a codebook to ``.qdc``, import ``.qdc`` and ``.qdpx`` codes.

Export follows QDA-XML 1.0 (``urn:QDA-XML:codebook:1.0``): nested ``Code`` elements for the
hierarchy, GUIDs derived from the code id (uuid5, so every export of a code carries the same
GUID), ``isCodable`` always set, colours as ``#RRGGBB``. The schema has no fields for
inclusion and exclusion criteria, examples, rounds or patterns, so each ``Description``
holds the definition, then a block that starts with the line ``--- slr-toolkit ---`` and
carries the rest as YAML. Other tools show it as text; this importer reads it back, so our
own export round-trips losslessly. Codebook metadata travels in a ``Set`` named
``slr-toolkit codebook``; each coding round is a ``Set`` of the codes it introduced.

Import accepts the 1.0 namespace and files that declare the old ``0:4`` one, takes codes
without the block from their name and nesting, and parses with :mod:`defusedxml`.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from defusedxml import ElementTree as SafeET

from toolkit._io import atomic_write_bytes
from toolkit._yaml import YamlError, dump_yaml, load_yaml, show
from toolkit.codebook.io import MAX_CODE_DEPTH, codebook_from_dict, codebook_to_dict
from toolkit.codebook.model import Codebook
from toolkit.errors import CodebookError

__all__ = ["export_qdc", "format_qdc", "read_qdc", "read_qdpx_codes", "check_qdc_structure",
           "code_guid", "add_code_elements", "add_codebook_sets", "check_code_elements",
           "CODEBOOK_NS", "PROJECT_NS"]

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
_OLD_NAMESPACES = ("urn:QDA-XML:codebook:0:4", "urn:QDA-XML:codebook:0.4",
                   "urn:QDA-XML:project:0:4")
#: Namespace for uuid5 GUIDs: a fixed uuid of this toolkit, so GUIDs never change.
GUID_NAMESPACE = uuid.UUID("6f1d0c4e-8f0b-5d8e-9a51-3c0b5a1f2e77")
MARKER = "--- slr-toolkit ---"
META_SET = "slr-toolkit codebook"
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\}?$")
_RGB = re.compile(r"^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$")
_MAX_QDE_BYTES = 200 * 1024 * 1024


def code_guid(code_id: str) -> str:
    """Return the stable GUID of a code id (uuid5 in the toolkit's namespace), upper case.

    Examples
    --------
    >>> code_guid("benefits") == code_guid("benefits") != code_guid("challenges")
    True
    """
    return str(uuid.uuid5(GUID_NAMESPACE, code_id)).upper()


def _description(code_dict: dict[str, Any]) -> str:
    definition = code_dict.get("definition", "")
    rest = {k: v for k, v in code_dict.items() if k not in ("label", "parent", "definition",
                                                           "color", "codable")}
    block = dump_yaml(rest, sort_keys=False, allow_unicode=True, width=96).strip()
    return f"{definition}\n\n{MARKER}\n{block}" if definition else f"{MARKER}\n{block}"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _check_xml_text(codebook: Codebook) -> None:
    problems = []
    for i, code in enumerate(codebook_to_dict(codebook)["codes"]):
        for key, value in code.items():
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(t, str) and _NOT_XML.search(t) for t in texts):
                problems.append(f"codes[{i}] (id {code['id']!r}): {key} holds a control "
                                "character XML cannot carry; remove it before exporting")
    for key in ("name", "version", "description", "authors"):
        value = getattr(codebook, key)
        texts = value if isinstance(value, tuple) else [value]
        if any(_NOT_XML.search(t) for t in texts):
            problems.append(f"{key} holds a control character XML cannot carry; remove it")
    for i, retired in enumerate(codebook.retired):
        if _NOT_XML.search(retired.label) or _NOT_XML.search(retired.reason):
            problems.append(f"retired[{i}] (id {retired.id!r}): label or reason holds a "
                            "control character XML cannot carry; remove it")
    if problems:
        raise CodebookError(f"codebook {codebook.name[:60]!r}", problems)


def add_code_elements(codes_el: ET.Element, codebook: Codebook, ns: str, *,
                      notes: dict[str, list[str]] | None = None) -> None:
    """Add the codebook's ``Code`` elements (nested by hierarchy) under ``codes_el``.

    ``ns`` is ``"{namespace}"`` (the codebook's or the project's); ``notes`` maps a code id
    to the GUIDs of notes about it (written as ``NoteRef``, project files only).
    """
    raw = {c["id"]: c for c in codebook_to_dict(codebook)["codes"]}

    def add(parent_el: ET.Element, code_id: str) -> None:
        code = codebook[code_id]
        attrs = {"guid": code_guid(code.id), "name": code.label,
                 "isCodable": "true" if code.codable else "false"}
        if code.color:
            attrs["color"] = code.color.upper()
        el = ET.SubElement(parent_el, f"{ns}Code", attrs)
        ET.SubElement(el, f"{ns}Description").text = _description(raw[code_id])
        for guid in (notes or {}).get(code_id, ()):
            ET.SubElement(el, f"{ns}NoteRef", {"targetGUID": guid})
        for child in codebook.children(code_id):
            add(el, child.id)

    for theme in codebook.themes():
        add(codes_el, theme.id)


def add_codebook_sets(sets_el: ET.Element, codebook: Codebook, ns: str, *,
                      member: str = "guid") -> None:
    """Add the metadata ``Set`` and one ``Set`` per coding round under ``sets_el``.

    ``member`` is the attribute naming a member code: ``guid`` in a codebook file,
    ``targetGUID`` in a project file (the two schemas differ there).
    """
    meta = {k: v for k, v in codebook_to_dict(codebook).items() if k != "codes"}
    meta_set = ET.SubElement(sets_el, f"{ns}Set", {
        "guid": str(uuid.uuid5(GUID_NAMESPACE, "codebook:" + codebook.name)).upper(),
        "name": META_SET})
    ET.SubElement(meta_set, f"{ns}Description").text = (
        f"{MARKER}\n" + dump_yaml(meta, sort_keys=False, allow_unicode=True).strip())
    for round_ in sorted({c.introduced_in for c in codebook.codes}):
        round_set = ET.SubElement(sets_el, f"{ns}Set", {
            "guid": str(uuid.uuid5(GUID_NAMESPACE, f"round:{round_}")).upper(),
            "name": f"Round {round_}"})
        ET.SubElement(round_set, f"{ns}Description").text = (
            f"Codes introduced in coding round {round_}")
        for code in codebook.codes:
            if code.introduced_in == round_:
                ET.SubElement(round_set, f"{ns}MemberCode", {member: code_guid(code.id)})


def format_qdc(codebook: Codebook, *, origin: str | None = None) -> bytes:
    """Return the codebook as QDA-XML 1.0 bytes (UTF-8, no BOM).

    Raises
    ------
    CodebookError
        When a text holds a control character, which XML 1.0 cannot carry.
    """
    from toolkit import __version__

    _check_xml_text(codebook)

    ET.register_namespace("", CODEBOOK_NS)
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    ns = f"{{{CODEBOOK_NS}}}"
    root = ET.Element(f"{ns}CodeBook", {
        "origin": origin or f"slr-toolkit {__version__}",
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation":
            f"{CODEBOOK_NS} Codebook.xsd",
    })
    add_code_elements(ET.SubElement(root, f"{ns}Codes"), codebook, ns)
    add_codebook_sets(ET.SubElement(root, f"{ns}Sets"), codebook, ns)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def export_qdc(codebook: Codebook, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the codebook as a REFI-QDA ``.qdc`` file, atomically.

    The XML is checked with :func:`check_qdc_structure` before it is written.

    Raises
    ------
    CodebookError
        If the generated XML breaks a rule of the schema (a bug; reported, never written).
    """
    data = format_qdc(codebook)
    problems = check_qdc_structure(data)
    if problems:  # pragma: no cover - guards against regressions in format_qdc
        raise CodebookError(path, problems)
    return atomic_write_bytes(path, data, overwrite=overwrite)


def check_code_elements(root: Any, ns: str, *, notes: bool = False
                        ) -> tuple[list[str], set[str]]:
    """Check every ``Code`` under ``root``; return the problems and the codes' GUIDs.

    Each ``Code`` needs a GUID (unique), a name and ``isCodable``; colours are ``#RRGGBB``;
    ``Description`` comes first; inside a ``Code`` only ``Description``, child ``Code``
    elements and, in a project (``notes=True``), ``NoteRef`` elements between the two.
    """
    problems: list[str] = []
    guids: set[str] = set()
    allowed = [f"{ns}Description", *([f"{ns}NoteRef"] if notes else []), f"{ns}Code"]
    for el in root.iter(f"{ns}Code"):
        name = el.get("name")
        where = f"Code {name!r}"
        for attr in ("guid", "name", "isCodable"):
            if el.get(attr) is None:
                problems.append(f"{where}: missing attribute {attr}")
        guid = el.get("guid", "")
        if guid and not _GUID.match(guid):
            problems.append(f"{where}: guid {guid!r} is not a GUID")
        if guid in guids:
            problems.append(f"{where}: guid {guid} used twice")
        guids.add(guid)
        if el.get("isCodable") not in (None, "true", "false", "1", "0"):
            problems.append(f"{where}: isCodable must be true or false")
        if el.get("color") is not None and not _RGB.match(el.get("color", "")):
            problems.append(f"{where}: color {el.get('color')!r} is not #RRGGBB")
        tags = [c.tag for c in el]
        if f"{ns}Description" in tags and tags.index(f"{ns}Description") != 0:
            problems.append(f"{where}: Description must come before child codes")
        if any(t not in allowed for t in tags):
            problems.append(f"{where}: only {', '.join(a.split('}')[1] for a in allowed)} "
                            "may appear inside a Code")
        elif [allowed.index(t) for t in tags] != sorted(allowed.index(t) for t in tags):
            problems.append(f"{where}: elements inside a Code must come in the order "
                            f"{', '.join(a.split('}')[1] for a in allowed)}")
    return problems, guids


def check_qdc_structure(data: bytes) -> list[str]:
    """Check the rules of ``Codebook.xsd`` that matter in practice; return the problems.

    Root ``CodeBook`` in the 1.0 namespace; ``Codes`` with at least one ``Code``; each
    ``Code`` with a GUID, a name and ``isCodable``; ``Description`` before child codes;
    colours ``#RRGGBB``; ``Sets`` (if any) non-empty, each ``Set`` with GUID and name,
    ``MemberCode`` GUIDs pointing at codes.
    """
    problems: list[str] = []
    try:
        root = SafeET.fromstring(data)
    except Exception as err:  # noqa: BLE001 - any parse error is reported as a problem
        return [f"not well-formed XML: {err}"]
    ns = f"{{{CODEBOOK_NS}}}"
    if root.tag != f"{ns}CodeBook":
        problems.append(f"root is {root.tag!r}; expected CodeBook in {CODEBOOK_NS}")
    children = list(root)
    if not children or children[0].tag != f"{ns}Codes":
        problems.append("first child must be Codes")
    code_problems, guids = check_code_elements(root, ns)
    problems.extend(code_problems)
    codes_el = root.find(f"{ns}Codes")
    if codes_el is not None and codes_el.find(f"{ns}Code") is None:
        problems.append("Codes is empty; the schema needs at least one Code")
    sets_el = root.find(f"{ns}Sets")
    if sets_el is not None:
        sets = sets_el.findall(f"{ns}Set")
        if not sets:
            problems.append("Sets is empty; leave it out or add a Set")
        for set_el in sets:
            if set_el.get("guid") is None or set_el.get("name") is None:
                problems.append(f"Set {set_el.get('name')!r}: needs guid and name")
            for member in set_el.findall(f"{ns}MemberCode"):
                if member.get("guid") not in guids:
                    problems.append(f"Set {set_el.get('name')!r}: MemberCode "
                                    f"{member.get('guid')!r} names no Code")
    return problems


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "code"


def _parse_description(text: str, where: str) -> tuple[str, dict[str, Any]]:
    if MARKER in text:
        definition, _, block = text.partition(MARKER)
        try:
            extra = load_yaml(block) or {}
        except YamlError as err:
            raise CodebookError(where, [f"the block after {MARKER!r}: {err}"]) from None
        return definition.strip(), extra if isinstance(extra, dict) else {}
    return text.strip(), {}


def _codes_from_root(root: Any, ns: str, where: str,
                     guids: dict[str, str] | None = None
                     ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    container = root.find(f"{ns}Codes") if root.tag.endswith("CodeBook") else None
    if container is None:
        book = root.find(f"{ns}CodeBook")
        container = book.find(f"{ns}Codes") if book is not None else None
    if container is None:
        raise CodebookError(where, ["no Codes element; is this a REFI-QDA codebook or project?"])
    codes: list[dict[str, Any]] = []
    used: set[str] = set()

    def visit(el: Any, parent: str | None, where_in: str) -> str:
        desc_el = el.find(f"{ns}Description")
        definition, extra = _parse_description(
            desc_el.text or "" if desc_el is not None else "", f"{where}: {where_in}")
        code_id = extra.pop("id", None)
        if code_id is not None and not isinstance(code_id, str):
            raise CodebookError(where, [f"{where_in}: id is {show(code_id)}; it must be text"])
        if not code_id:
            name = _slug(el.get("name", ""))
            base = f"{parent}.{name}" if parent else name
            code_id, n = base, 2
            while code_id in used:
                code_id, n = f"{base}_{n}", n + 1
        used.add(code_id)
        if guids is not None and el.get("guid"):
            guids[el.get("guid").strip("{}").upper()] = code_id
        item: dict[str, Any] = {"id": code_id, "label": el.get("name") or code_id}
        if parent:
            item["parent"] = parent
        if definition:
            item["definition"] = definition
        color = el.get("color")
        if color and _RGB.match(color):
            item["color"] = color if len(color) == 7 else "#" + "".join(c * 2 for c in color[1:])
        if el.get("isCodable") in ("false", "0"):
            item["codable"] = False
        item.update(extra)
        codes.append(item)
        return code_id

    # Depth first in document order, without recursion (a file may nest thousands deep).
    stack: list[tuple[Any, str | None, int]] = [
        (el, None, 0) for el in reversed(container.findall(f"{ns}Code"))]
    while stack:
        el, parent, depth = stack.pop()
        where_in = f"Code {show(el.get('name'))}"
        if depth > MAX_CODE_DEPTH:
            raise CodebookError(where, [f"{where_in}: codes nested more than {MAX_CODE_DEPTH} "
                                        "levels deep; flatten the hierarchy"])
        code_id = visit(el, parent, where_in)
        stack.extend((child, code_id, depth + 1)
                     for child in reversed(el.findall(f"{ns}Code")))
    meta: dict[str, Any] = {}
    sets = root.find(f"{ns}Sets")
    for set_el in sets.findall(f"{ns}Set") if sets is not None else []:
        if set_el.get("name") == META_SET:
            desc = set_el.find(f"{ns}Description")
            meta = _parse_description(desc.text or "" if desc is not None else "",
                                      f"{where}: Set {META_SET!r}")[1]
    return codes, meta


def _namespace(root: Any) -> str:
    match = re.match(r"^\{([^}]*)\}", root.tag)
    return match.group(1) if match else ""


def _build(codes: list[dict[str, Any]], meta: dict[str, Any], where: str,
           default_name: str) -> Codebook:
    if not codes:
        raise CodebookError(where, ["no codes; a REFI-QDA codebook needs at least one Code"])
    for code in codes:  # fill what other tools leave out, keep what they say
        code.setdefault("introduced_in", 1)
    rounds = [c["introduced_in"] for c in codes
              if isinstance(c["introduced_in"], int) and not isinstance(c["introduced_in"], bool)]
    version = meta.get("version", "imported")
    data = {"name": meta.get("name", default_name),
            "version": str(version) if isinstance(version, (str, int, float)) else version,
            "round": meta.get("round", max(rounds, default=1)),
            "codes": codes}
    for key in ("authors", "description", "retired"):
        if key in meta:
            data[key] = meta[key]
    return codebook_from_dict(data, where)


def read_qdc(path: str | Path) -> Codebook:
    """Import a REFI-QDA ``.qdc`` codebook (QDA-XML 1.0, or files declaring ``0:4``).

    Codes without this toolkit's description block get ids from their names (``a.b`` for
    nesting), ``introduced_in`` 1, and the whole ``Description`` as definition.

    Raises
    ------
    CodebookError
        For files that are not codebooks, or whose codes do not make a valid codebook.
    """
    path = _existing_file(path, ".qdc")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CodebookError(path, [f"cannot be read ({err.strerror}); check its permissions"]) \
            from None
    try:
        root = SafeET.fromstring(data)
    except Exception as err:  # noqa: BLE001 - defusedxml and expat raise several types
        raise CodebookError(path, [f"cannot parse XML: {show(str(err))[1:-1]}; is this a "
                                   "REFI-QDA .qdc file?"]) from None
    namespace = _namespace(root)
    if namespace not in (CODEBOOK_NS, *_OLD_NAMESPACES):
        raise CodebookError(path, [f"namespace {namespace!r} is not a REFI-QDA codebook "
                                   f"namespace; expected {CODEBOOK_NS}"])
    codes, meta = _codes_from_root(root, f"{{{namespace}}}", str(path))
    return _build(codes, meta, str(path), path.stem)


def _existing_file(path: str | Path, kind: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise CodebookError(path, [f"is a folder; give the {kind} file"])
    if not path.is_file():
        raise CodebookError(path, ["no such file; check the path"])
    return path


def _safe_member(name: str) -> bool:
    pure = PurePosixPath(name.replace("\\", "/"))
    return not pure.is_absolute() and ".." not in pure.parts and not re.match(r"^[A-Za-z]:",
                                                                             name)


def read_qdpx_codes(path: str | Path) -> Codebook:
    """Read the codes of a REFI-QDA project archive (``.qdpx``).

    The archive is refused when any member would land outside an extraction folder
    (absolute paths, ``..``, drive letters), and the project XML is parsed with defusedxml.

    Raises
    ------
    CodebookError
        For unsafe archives, archives without a ``.qde`` project, or projects without codes.
    """
    path = _existing_file(path, ".qdpx")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise CodebookError(path, ["not a zip archive; a .qdpx is a zip with a .qde inside"]) \
            from None
    except OSError as err:
        raise CodebookError(path, [f"cannot be read ({err.strerror}); check its permissions"]) \
            from None
    with archive:
        unsafe = [n for n in archive.namelist() if not _safe_member(n)]
        if unsafe:
            raise CodebookError(path, [f"refused: member {n!r} would be written outside the "
                                       "target folder" for n in unsafe])
        qde = sorted((n for n in archive.namelist() if n.lower().endswith(".qde")),
                     key=lambda n: (n.lower() != "project.qde", n))
        if not qde:
            raise CodebookError(path, ["no .qde project file inside the archive"])
        info = archive.getinfo(qde[0])
        if info.file_size > _MAX_QDE_BYTES:
            raise CodebookError(path, [f"{qde[0]} is {info.file_size} bytes; refusing to read "
                                       "more than 200 MB"])
        try:
            data = archive.read(qde[0])
        except RuntimeError as err:  # encrypted member: zipfile wants a password
            raise CodebookError(path, [f"{qde[0]} is encrypted ({err}); export the project "
                                       "again without a password"]) from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as err:
            raise CodebookError(path, [f"{qde[0]} cannot be unpacked ({show(str(err))[1:-1]}); "
                                       "the archive is damaged: export it again"]) from None
    try:
        root = SafeET.fromstring(data)
    except Exception as err:  # noqa: BLE001
        raise CodebookError(path, [f"cannot parse {qde[0]}: {err}"]) from None
    namespace = _namespace(root)
    codes, meta = _codes_from_root(root, f"{{{namespace}}}", str(path))
    if not codes:
        raise CodebookError(path, ["the project has no codes"])
    return _build(codes, meta, str(path), root.get("name") or path.stem)
