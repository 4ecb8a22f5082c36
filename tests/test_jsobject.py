"""``JsDict``: a dict whose keys read as attributes, while its methods stay methods."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from portflare.jsobject import JsDict, JsList


def test_keys_read_as_attributes() -> None:
    result = JsDict(meta=JsDict(last_row_id=7), results=JsList([JsDict(name="ada")]))
    assert result.meta.last_row_id == 7
    assert result.results[0].name == "ada"
    assert result.to_py() is result and result.as_object_map() is result


def test_methods_and_dunders_win_over_keys() -> None:
    d = JsDict(keys=1, get=2, __class__=3, items=4)
    assert d.keys() == {"keys", "get", "__class__", "items"}
    assert d.get("get") == 2 and d["keys"] == 1
    assert d.__class__ is JsDict
    assert dict(d.items()) == {"keys": 1, "get": 2, "__class__": 3, "items": 4}


def test_missing_names_raise_attribute_error() -> None:
    d = JsDict(a=1)
    with pytest.raises(AttributeError, match="nope"):
        _ = d.nope
    assert not hasattr(d, "nope") and getattr(d, "nope", "default") == "default"
    assert not hasattr(d, "__dict__")  # no instance dict: attributes are keys


def test_attribute_writes_are_keys() -> None:
    d = JsDict()
    d.a = 1
    d.keys = 2  # a key, not a method override
    assert d == {"a": 1, "keys": 2} and callable(d.keys)
    del d.a
    assert d == {"keys": 2}
    with pytest.raises(AttributeError):
        del d.a


def test_copies_and_serialises_as_a_dict() -> None:
    d = JsDict(a=JsDict(b=[1, 2]))
    for twin in (copy.copy(d), copy.deepcopy(d), pickle.loads(pickle.dumps(d))):
        assert type(twin) is JsDict and twin == d and twin.a.b == [1, 2]
    assert json.loads(json.dumps(d)) == {"a": {"b": [1, 2]}}
