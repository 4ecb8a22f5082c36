# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample (see entry.py).
def hello(name):
    return "Hello, " + name + "!"
