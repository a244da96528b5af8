"""Trusted code the gradient_descent grader runs INSIDE the sandboxed worker.

Sent to the worker as source: standard library only. Each driver takes the submission's namespace
first. What it returns is untrusted data, judged in the parent process.
"""


def read_constant(namespace, name):
    """The student's constant `name` as plain data: {"kind": ..., "value": ...}.

    Dicts may have float keys (EPOCHS_BY_LR), which the codec does not carry, so a dict comes back as
    a list of [key, value] pairs. A value of any other type comes back as its type name only.
    """
    value = namespace[name]
    plain = (type(None), bool, int, float, str)
    if isinstance(value, plain):
        return {"kind": "plain", "value": value}
    if isinstance(value, dict):
        pairs = [[k, v] for k, v in value.items() if isinstance(k, plain) and isinstance(v, plain)]
        return {"kind": "dict", "value": pairs, "size": len(value)}
    if hasattr(value, "item") and callable(value.item):  # a numpy or torch scalar
        try:
            item = value.item()
        except Exception:
            item = None
        if isinstance(item, (bool, int, float)):
            return {"kind": "plain", "value": item}
    return {"kind": "other", "value": type(value).__name__}
