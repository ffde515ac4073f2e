"""Read YAML from untrusted files: safe types only, bounded size, depth and alias expansion.

``yaml.safe_load`` builds only plain types, but three things still go wrong on hostile or
broken input: an *alias bomb* (``a: &a [x, x]``, ``b: &b [*a, *a]``, ... nine levels deep
is 10**9 items once anything walks or prints it), nesting deep enough to exhaust Python's
recursion, and bytes that are not UTF-8. :func:`load_yaml` refuses each with a
:class:`YamlError` whose message says where and what to do, before anything is built.
"""

from __future__ import annotations

import codecs
import reprlib
from typing import Any

import yaml

from toolkit.errors import ToolkitError

__all__ = ["YamlError", "load_yaml", "dump_yaml", "decode_text", "show", "MAX_BYTES",
           "MAX_DEPTH", "MAX_EXPANDED"]

#: Largest YAML text read (characters).
MAX_BYTES = 16 * 1024 * 1024
#: Deepest nesting of mappings and sequences.
MAX_DEPTH = 100
#: Largest size of the document with every alias expanded (nodes plus scalar characters).
MAX_EXPANDED = 20_000_000

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 80, 80, 5, 5
_SHORT.maxlevel = 2


class YamlError(ToolkitError, ValueError):
    """YAML that cannot or may not be read; the message says where and what to do."""


def show(value: Any) -> str:
    """Return a short ``repr`` for messages: never long, never an expanded alias bomb.

    Examples
    --------
    >>> show("x" * 500)[:12], len(show("x" * 500)) < 90
    ("'xxxxxxxxxxx", True)
    >>> show([[1, 2, 3, 4, 5, 6, 7]] * 1000)[:50]
    '[[1, 2, 3, 4, 5, ...], [1, 2, 3, 4, 5, ...], [1, 2'
    """
    return _SHORT.repr(value)


def decode_text(data: bytes) -> str:
    """Decode YAML/XML-era text: UTF-8, or UTF-16/32 with a byte-order mark.

    Raises
    ------
    YamlError
        For bytes that are not UTF-8 (e.g. a file saved as Windows-1252 or UTF-16 without
        a mark), naming the line and column of the first bad byte.

    Examples
    --------
    >>> decode_text("é".encode("utf-16"))
    'é'
    >>> decode_text(b"name: Caf\\xe9")
    Traceback (most recent call last):
    ...
    toolkit._yaml.YamlError: line 1, column 10: byte 0xe9 is not UTF-8 (is the file saved
    as Windows-1252 or Latin-1?); save it as UTF-8 and try again
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError as err:
                raise YamlError(f"byte {err.start + len(bom)}: not valid {encoding} although "
                                "the file starts with its byte-order mark; save it as "
                                "UTF-8 and try again") from None
    if b"\x00" in data:
        raise YamlError("holds NUL bytes: is it UTF-16 or UTF-32 without a byte-order mark, "
                        "or not a text file at all? save it as UTF-8 and try again")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        head = data[:err.start]
        line = head.count(b"\n") + 1
        column = err.start - (head.rfind(b"\n") + 1) + 1
        raise YamlError(f"line {line}, column {column}: byte 0x{data[err.start]:02x} is not "
                        "UTF-8 (is the file saved as Windows-1252 or Latin-1?); save it as "
                        "UTF-8 and try again") from None


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses nesting deeper than :data:`MAX_DEPTH`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlError(f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels "
                                "deep; a codebook or protocol never needs that")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(root: yaml.Node) -> int:
    """Size with every alias expanded, computed once per node (linear in the node graph).

    Stops as soon as :data:`MAX_EXPANDED` is passed; a node that contains itself (a
    recursive alias) counts as too large.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(size[id(child)] for child in _children(node))
            size[key] = min(total, MAX_EXPANDED + 1)
            continue
        if key in size:
            continue
        if key in on_path:
            return MAX_EXPANDED + 1  # recursive: infinite once expanded
        if isinstance(node, yaml.ScalarNode):
            size[key] = 1 + len(node.value)
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                return MAX_EXPANDED + 1
            if id(child) not in size:
                stack.append((child, False))
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(text: str) -> Any:
    """Parse one YAML document with ``SafeLoader``, refusing bombs and deep nesting.

    Raises
    ------
    YamlError
        For text over :data:`MAX_BYTES`, nesting over :data:`MAX_DEPTH`, aliases that
        expand past :data:`MAX_EXPANDED` (or refer to themselves), and YAML syntax errors
        (with line and column).

    Examples
    --------
    >>> load_yaml("a: &x [1, 2]\\nb: *x")
    {'a': [1, 2], 'b': [1, 2]}
    >>> bomb = "a0: &a0 [x, x]\\n" + "".join(
    ...     f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\\n" for i in range(1, 40))
    >>> load_yaml(bomb)
    Traceback (most recent call last):
    ...
    toolkit._yaml.YamlError: its aliases expand to more than 20,000,000 nodes and
    characters, or refer to themselves (an alias bomb?); write the values out or use fewer
    aliases
    """
    if len(text) > MAX_BYTES:
        raise YamlError(f"{len(text):,} characters; larger than the {MAX_BYTES:,} a YAML file "
                        "may have here")
    loader = None
    try:
        loader = _BoundedLoader(text)  # the reader refuses unprintable characters here
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_EXPANDED:
            raise YamlError(f"its aliases expand to more than {MAX_EXPANDED:,} nodes and "
                            "characters, or refer to themselves (an alias bomb?); write the "
                            "values out or use fewer aliases")
        return loader.construct_document(node)
    except yaml.reader.ReaderError as err:
        char = err.character
        code = f"U+{char:04X}" if isinstance(char, int) else f"byte {char!r}"
        raise YamlError(f"not valid YAML: character {code} at position "
                        f"{err.position} is not allowed (a control character; is this a text "
                        "file?)") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise YamlError(f"not valid YAML{where}: {show(problem)[1:-1]}") from None
    except RecursionError:  # pragma: no cover - _BoundedLoader stops far earlier
        raise YamlError(f"nested too deeply (more than {MAX_DEPTH} levels)") from None
    finally:
        if loader is not None:
            loader.dispose()


class _ExactDumper(yaml.SafeDumper):
    """SafeDumper that writes texts holding YAML line breaks (NEL, LS, PS) double-quoted.

    Left to itself PyYAML writes U+0085, U+2028 and U+2029 raw, and reading the file back
    folds them into spaces; double quotes make the emitter escape them (``\\N``, ``\\L``,
    ``\\P``), so the text survives a round trip exactly.
    """


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if any(c in value for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExactDumper.add_representer(str, _represent_text)


def dump_yaml(data: Any, **kwargs: Any) -> str:
    """``yaml.safe_dump`` that reads back exactly (see :class:`_ExactDumper`).

    Examples
    --------
    >>> load_yaml(dump_yaml({"a": "one\x85two"})) == {"a": "one\x85two"}
    True
    """
    return yaml.dump(data, Dumper=_ExactDumper, **kwargs)
