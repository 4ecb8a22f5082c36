"""``crypto`` for Worker code that reaches it through ``js``: ``randomUUID`` and ``getRandomValues``.

Errors are workerd's (``api/crypto/crypto.c++``). ``crypto.subtle`` is not provided: its algorithms (RSA,
ECDSA, Ed25519, AES, ...) would need a cryptography library portflare does not depend on, and a partial copy
would fail in surprising places. Using it raises a ``NotSupportedError`` that says what to use instead.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, NoReturn

from portflare.api.typedarrays import Uint8Array
from portflare.errors import JsException

MAX_RANDOM_BYTES = 0x10000


class _Subtle:
    def __getattr__(self, name: str) -> NoReturn:
        raise JsException(f"crypto.subtle.{name}() is not available under portflare: use Python's hashlib, "
                          "hmac or secrets (or the cryptography package) in Worker code that must also run "
                          "here", name="NotSupportedError")


class Crypto:
    subtle = _Subtle()

    @staticmethod
    def randomUUID() -> str:
        return str(uuid.uuid4())

    @staticmethod
    def getRandomValues(array: Any) -> Any:
        """Fill an integer-typed array (``Uint8Array``, or a writable Python buffer) with random bytes."""
        if isinstance(array, Uint8Array):
            view = array.to_memoryview()
        elif isinstance(array, (bytearray, memoryview)) and not memoryview(array).readonly:
            view = memoryview(array).cast("B")
        else:
            raise JsException("ArrayBufferView argument to getRandomValues() must be an integer-typed view.",
                              name="TypeMismatchError")
        if len(view) > MAX_RANDOM_BYTES:
            raise JsException(f"getRandomValues() only accepts buffers of size <= 64K but provided {len(view)} "
                              "bytes.", name="QuotaExceededError")
        view[:] = os.urandom(len(view))
        return array


crypto = Crypto()
