"""What ``srngan: error:`` shows: any error of a command or a config as one line that names the
bad value and what is allowed (jsonargparse's multi-line parse errors included)."""

from __future__ import annotations

import difflib
import inspect
import re

from jsonargparse import ArgumentError
from jsonargparse.typing import import_object

# What a subclass-typed argument accepts, for error messages.
_CHOICES = {
    "regularizer": "SpectralNorm, StableRankNorm, GradientPenalty, Orthonormal, null, or the class "
    "path of your own srngan.regularizers.Regularizer subclass",
    "loss": "Hinge, NonSaturating, Wasserstein, or the class path of your own "
    "srngan.losses.AdversarialLoss subclass",
}


def one_line_message(err: BaseException) -> str:
    """The one line ``srngan: error:`` shows for ``err``."""
    if isinstance(err, ArgumentError):
        return one_line_parse_error(str(err))
    # A constructor's own error reaches here wrapped by jsonargparse: show the first error in
    # the chain that is a plain one-line message.
    chain, cause = [], err
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__
    wrapped = ("Parser key", "Does not validate", "Problem with given class_path")
    for e in chain:
        if "\n" not in str(e) and not str(e).startswith(wrapped):
            return str(e)
    return one_line_parse_error(str(err))


def _signature_keys(class_path: str) -> list[str]:
    try:
        owner = import_object(class_path)
    except (ImportError, AttributeError, ValueError):
        return []
    return [
        p
        for p in inspect.signature(owner.__init__).parameters
        if p not in ("self", "args", "kwargs")
    ]


def one_line_parse_error(message: str) -> str:
    """A jsonargparse error as one line that names the bad value and what is allowed."""
    text = " ".join(message.split())
    literal = re.search(
        r'Parser key "([^"]+)": Expected a typing\.Literal\[(.*?)\]\. Got value: (\S+)', text
    )
    keys = re.findall(r'Parser key "([^"]+)"', text)
    if literal:
        key, choices, value = literal.groups()
        allowed = ", ".join(c.strip().strip("'\"") for c in choices.split(","))
        return f"{'.'.join([*keys[: keys.index(key)], key])}: got {value!r}; allowed: {allowed}"
    no_class = re.search(
        r'Parser key "([^"]+)": - Expected a path but (\S+) either not accessible', text
    )
    if no_class:
        key, value = no_class.groups()
        allowed = _CHOICES.get(key, "a class path (package.module.Class) that can be imported")
        return f"{'.'.join([*keys[: keys.index(key)], key])}: got {value!r}; allowed: {allowed}"
    option = re.search(r"Option '([\w.]+)' is not accepted", text)
    unknown = re.search(r"(?:unrecognized arguments: |Key '|key \")--?([\w.]+)", text)
    if option or unknown:
        if option:
            owners = re.findall(r"Problem with given class_path '([\w.]+)'", text[: option.start()])
            key = ".".join([*keys, option.group(1)])
            allowed = _signature_keys(owners[-1]) if owners else []
            section = ".".join(keys)
        else:
            key = unknown.group(1)
            section = key.rsplit(".", 1)[0]
            allowed = []
        allowed = [f"{section}.{a}" for a in allowed]
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else ""
        listing = f"; allowed {section} keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown option {key}{hint}{listing}"
    return text


__all__ = ["one_line_message", "one_line_parse_error"]
