"""Check a project file against the rules of ``Project.xsd`` that matter in practice."""

from __future__ import annotations

from defusedxml import ElementTree as SafeET

from toolkit.codebook.refi import (
    _GUID,
    PROJECT_NS,
    check_code_elements,
)
from toolkit.coding.qdpx._common import (
    _DATETIME,
    _PROJECT_ORDER,
    MAX_SOURCE_BYTES,
    _decode,
    _internal,
    _open_archive,
)
from toolkit.errors import CodingError

__all__ = ["check_qdpx_structure"]


def check_qdpx_structure(data: bytes) -> list[str]:
    """Check the rules of ``Project.xsd`` that matter in practice; return the problems.

    ``data`` is a ``.qdpx`` archive or a bare ``.qde``. Checked: root ``Project`` in the
    1.0 namespace with a name; its children in the schema's order; GUIDs well formed and
    unique; codes as in :func:`toolkit.codebook.check_qdc_structure` (``NoteRef`` allowed);
    each text source with exactly one of ``PlainTextContent`` and ``plainTextPath``, an
    internal path present in the archive; selections with whole-number positions,
    ``0 <= start <= end``, within the text when it is at hand; every ``CodeRef``,
    ``NoteRef``, ``MemberCode`` and user reference pointing at something that exists.
    """
    problems: list[str] = []
    try:
        xml, members, archive = _open_archive(data, "project")
        root = SafeET.fromstring(xml)
    except CodingError as err:
        return [str(err)]
    except Exception as err:  # noqa: BLE001 - any parse error is a problem
        return [f"not well-formed XML: {err}"]
    ns = f"{{{PROJECT_NS}}}"
    if root.tag != f"{ns}Project":
        return [f"root is {root.tag!r}; expected Project in {PROJECT_NS}"]
    if not root.get("name"):
        problems.append("Project: missing attribute name")
    order = [c.tag.removeprefix(ns) for c in root]
    ranks = [_PROJECT_ORDER.index(t) if t in _PROJECT_ORDER else -1 for t in order]
    if -1 in ranks or ranks != sorted(ranks):
        problems.append(f"Project children {order} are not in the schema's order "
                        f"{list(_PROJECT_ORDER)}")
    all_guids: list[str] = [el.get("guid", "") for el in root.iter() if "guid" in el.attrib]
    for guid in all_guids:
        if not _GUID.match(guid):
            problems.append(f"guid {guid!r} is not a GUID")
    seen: set[str] = set()
    for guid in all_guids:
        key = guid.strip("{}").upper()
        if key in seen:
            problems.append(f"guid {guid} used by two elements")
        seen.add(key)
    code_problems, code_guids = check_code_elements(root, ns, notes=True)
    problems.extend(code_problems)
    code_keys = {g.strip("{}").upper() for g in code_guids}
    users = {u.get("guid", "").strip("{}").upper() for u in root.iter(f"{ns}User")}
    notes = {n.get("guid", "").strip("{}").upper() for n in root.iter(f"{ns}Note")}
    for el in root.iter():
        for attr in ("creatingUser", "modifyingUser"):
            if el.get(attr) and el.get(attr, "").strip("{}").upper() not in users:
                problems.append(f"{el.tag.removeprefix(ns)} {el.get('guid')}: {attr} names no "
                                "User")
        for attr in ("creationDateTime", "modifiedDateTime"):
            if el.get(attr) and not _DATETIME.match(el.get(attr, "")):
                problems.append(f"{el.tag.removeprefix(ns)} {el.get('guid')}: {attr} "
                                f"{el.get(attr)!r} is not an xsd:dateTime")
    for ref in root.iter(f"{ns}CodeRef"):
        if ref.get("targetGUID", "").strip("{}").upper() not in code_keys:
            problems.append(f"CodeRef {ref.get('targetGUID')!r} names no Code")
    for ref in root.iter(f"{ns}NoteRef"):
        if ref.get("targetGUID", "").strip("{}").upper() not in notes:
            problems.append(f"NoteRef {ref.get('targetGUID')!r} names no Note")
    for ref in root.iter(f"{ns}MemberCode"):
        if ref.get("targetGUID", "").strip("{}").upper() not in code_keys:
            problems.append(f"MemberCode {ref.get('targetGUID')!r} names no Code")
    for parent in (f"{ns}Users", f"{ns}Sources", f"{ns}Notes", f"{ns}Sets"):
        for el in root.findall(parent):
            if len(el) == 0:
                problems.append(f"{parent.removeprefix(ns)} is empty; leave it out or fill it")
    for source in [*root.iter(f"{ns}TextSource"), *root.iter(f"{ns}Note")]:
        where = f"{source.tag.removeprefix(ns)} {source.get('name')!r}"
        content = source.find(f"{ns}PlainTextContent")
        path = source.get("plainTextPath")
        if (content is None) == (path is None) and source.tag == f"{ns}TextSource":
            problems.append(f"{where}: needs exactly one of PlainTextContent and "
                            "plainTextPath")
        text = content.text or "" if content is not None else None
        member = _internal(path)
        if path and member is None and path.startswith("internal://"):
            problems.append(f"{where}: plainTextPath {path!r} is not a file name in sources/")
        if member and archive is not None:
            if member not in members:
                problems.append(f"{where}: {path} is not in the archive")
            elif members[member].file_size <= MAX_SOURCE_BYTES:
                text = _decode(archive.read(members[member]))
        for selection in source.findall(f"{ns}PlainTextSelection"):
            try:
                start = int(selection.get("startPosition", ""))
                end = int(selection.get("endPosition", ""))
            except ValueError:
                problems.append(f"{where}: selection {selection.get('guid')} needs whole-number "
                                "startPosition and endPosition")
                continue
            if not 0 <= start <= end or (text is not None and end > len(text)):
                problems.append(f"{where}: selection {selection.get('guid')} spans "
                                f"{start}-{end}, outside the text")
    return problems

