"""Codebook regular expressions, run on RE2 so that matching time stays linear.

A codebook can come from someone else (a shared YAML file, an imported ``.qdc``), and
Python's own engine backtracks: ``(a+)+$`` takes seconds on thirty characters and doubles
with each one more. RE2 (``google-re2``, Google's engine) never backtracks, so every
pattern runs in time linear in the text. The price is a few constructs RE2 does not
have, which :func:`check_regex` names with what to write instead:

* look-around (``(?=``, ``(?!``, ``(?<=``, ``(?<!``) and back-references (``\\1``);
* ``\\Z`` (write ``\\z``); possessive quantifiers and atomic groups (not needed: RE2
  cannot backtrack).

Note that ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII in RE2; write ``\\pL`` for any
letter (``é`` included). Patterns match case-insensitively, as before.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["check_regex", "compile_regex"]

#: Largest compiled program RE2 may build for one pattern (bytes); big enough for any
#: pattern a codebook needs, small enough that ``a{1000}{1000}`` is refused.
MAX_PROGRAM_BYTES = 8 * 1024 * 1024
_HINTS = (
    (re.compile(r"\(\?<?[=!]"), "look-around ((?=, (?!, (?<=, (?<!) is not supported; match "
                                "the surrounding text too, or use a phrase pattern"),
    (re.compile(r"\\[1-9]|\(\?P="), "back-references are not supported; write the "
                                   "repeated text out"),
    (re.compile(r"\\Z"), r"write \z for the end of the text"),
    (re.compile(r"[*+?}]\+|\(\?>"), "possessive quantifiers and atomic groups are not "
                                    "needed (RE2 never backtracks); drop the extra '+' or "
                                    "'(?>'"),
)


def _options(case_sensitive: bool = False) -> Any:
    import re2

    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.max_mem = MAX_PROGRAM_BYTES
    options.log_errors = False
    return options


def check_regex(pattern: str) -> str | None:
    """Return what is wrong with a codebook regex (``None`` when RE2 accepts it).

    Examples
    --------
    >>> check_regex(r"\\bstackab\\w+") is None
    True
    >>> check_regex(r"fee(?=s)")
    'look-around ((?=, (?!, (?<=, (?<!) is not supported; ...'
    >>> check_regex("fee(s")
    'missing ): fee(s; escape special characters with a backslash or use a phrase instead'
    """
    import re2

    try:
        re2.compile(pattern, _options())
    except re2.error as err:
        for rule, hint in _HINTS:
            if rule.search(pattern):
                return hint
        reason = err.args[0] if err.args else "not a valid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return (f"{str(reason)[:200]}; escape special characters with a backslash or use a "
                "phrase instead")
    return None


def compile_regex(pattern: str) -> Any:
    """Compile a checked pattern for case-insensitive, linear-time matching.

    The result has ``finditer``/``search`` like :mod:`re` patterns, and match offsets in
    characters.

    Raises
    ------
    ValueError
        (``re2.error``) For a pattern :func:`check_regex` would refuse.
    """
    import re2

    return re2.compile(pattern, _options())
