"""Trusted code the backprop_by_hand grader runs INSIDE the sandboxed worker.

Sent to the worker as source: standard library only. It reads the student's answers and returns
them as the plain-data snapshot graders.engine.numeric_answers describes; it judges nothing.
"""

_MAX_ENTRIES = 500  # a dict of answers has a few dozen entries; more is not an answer sheet
_MAX_TEXT = 200


def _plain(value):
    """A student's value as None, bool, int, float or str, or {"unsupported": its type name}."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # numpy.float64 is a float
        return float(value)
    if isinstance(value, str):
        return str(value)[:_MAX_TEXT]
    if getattr(value, "shape", None) == () and callable(getattr(value, "item", None)):
        try:  # a numpy or torch scalar
            item = value.item()
        except Exception:
            item = None
        if isinstance(item, (bool, int, float)):
            return item
    return {"unsupported": type(value).__name__}


def read_answers(namespace, dict_name, variable_names):
    """The dict `dict_name` and those of `variable_names` the submission defines, as plain data."""
    if dict_name not in namespace:
        found = {"kind": "absent"}
    elif namespace[dict_name] is None:
        found = {"kind": "none"}
    elif isinstance(namespace[dict_name], dict):
        pairs = list(namespace[dict_name].items())[:_MAX_ENTRIES]
        entries = [[key[:_MAX_TEXT], _plain(value)] for key, value in pairs if isinstance(key, str)]
        found = {"kind": "dict", "entries": entries}
    else:
        found = {"kind": "other", "type": type(namespace[dict_name]).__name__}
    variables = {name: _plain(namespace[name]) for name in variable_names if name in namespace}
    return {"dict": found, "variables": variables}
