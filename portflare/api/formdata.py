"""``FormData``: an ordered multi-map of form fields, with multipart / urlencoded encoding and parsing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlencode

from portflare.api.blob import Blob, File
from portflare.errors import JsTypeError

FormDataValue: TypeAlias = "str | File"


def _entry_value(value: Any, filename: str | None) -> str | File:
    # As in the fetch spec: a Blob becomes a File (named "blob" unless named), anything else a string.
    if isinstance(value, Blob):
        if isinstance(value, File) and filename is None:
            return value
        name = filename or (value.name if isinstance(value, File) else "blob")
        return File([value], name, content_type=value.content_type)
    if filename is not None:
        raise JsTypeError("Failed to execute 'append' on 'FormData': a filename requires a Blob value.")
    return str(value)


class FormData(MutableMapping[str, "str | File"]):
    def __init__(self, form_data: Mapping[str, Any] | FormData | None = None) -> None:
        self._entries: list[tuple[str, str | File]] = []
        if isinstance(form_data, FormData):
            self._entries = list(form_data._entries)
        elif form_data is not None:
            for key, value in form_data.items():
                self.append(key, value)

    def append(self, key: str, value: Any, filename: str | None = None) -> None:
        self._entries.append((key, _entry_value(value, filename)))

    def set(self, key: str, value: Any, filename: str | None = None) -> None:
        entry = _entry_value(value, filename)
        self.delete(key)
        self._entries.append((key, entry))

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self._entries:
            if k == key:
                return v
        return default

    def get_all(self, key: str) -> list[str | File]:
        return [v for k, v in self._entries if k == key]

    getAll = get_all

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self._entries)

    def delete(self, key: str) -> None:
        self._entries = [(k, v) for k, v in self._entries if k != key]

    def entries(self) -> Iterator[tuple[str, str | File]]:
        return iter(list(self._entries))

    # As the SDK (over JS FormData's keys/values/entries): one item per entry, so a repeated key shows up as
    # often as it was appended. Iterating the mapping itself gives each key once.
    def keys(self) -> list[str]:  # type: ignore[override]
        return [k for k, _ in self._entries]

    def values(self) -> list[str | File]:  # type: ignore[override]
        return [v for _, v in self._entries]

    def items(self) -> list[tuple[str, str | File]]:  # type: ignore[override]
        return list(self._entries)

    @property
    def js_object(self) -> FormData:
        return self

    def __getitem__(self, key: str) -> str | File:
        for k, v in self._entries:
            if k == key:
                return v
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        if not self.has(key):
            raise KeyError(key)
        self.delete(key)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._entries))

    def __len__(self) -> int:
        return len(dict.fromkeys(k for k, _ in self._entries))

    def __repr__(self) -> str:
        return f"FormData({self._entries!r})"

    # -- wire formats ----------------------------------------------------------------------------------

    def encode_multipart(self) -> tuple[bytes, str]:
        """The multipart/form-data body and its content type (with the boundary)."""
        boundary = "----portflare" + secrets.token_hex(16)
        out = bytearray()
        for key, value in self._entries:
            name = _quote(key)
            out += f"--{boundary}\r\n".encode()
            if isinstance(value, File):
                out += (f'Content-Disposition: form-data; name="{name}"; filename="{_quote(value.name)}"\r\n'
                        f"Content-Type: {value.content_type or 'application/octet-stream'}\r\n\r\n").encode()
                out += value._data
            else:
                out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                out += value.encode("utf-8")
            out += b"\r\n"
        out += f"--{boundary}--\r\n".encode()
        return bytes(out), f"multipart/form-data; boundary={boundary}"

    def encode_urlencoded(self) -> bytes:
        return urlencode([(k, v if isinstance(v, str) else v.name) for k, v in self._entries]).encode()

    @classmethod
    def parse(cls, body: bytes, content_type: str | None) -> FormData:
        """Parse a multipart/form-data or application/x-www-form-urlencoded body, as ``formData()`` does."""
        from python_multipart.multipart import parse_options_header

        mime, params = parse_options_header(content_type or "")
        if mime == b"application/x-www-form-urlencoded":
            form = cls()
            for key, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
                form.append(key, value)
            return form
        if mime == b"multipart/form-data" and b"boundary" in params:
            return _parse_multipart(body, params[b"boundary"])
        raise JsTypeError(f"Unrecognized Content-Type header value. FormData can only parse the following "
                          f"MIME types: multipart/form-data, application/x-www-form-urlencoded (got "
                          f"'{content_type or ''}').")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _parse_multipart(body: bytes, boundary: bytes) -> FormData:
    from python_multipart.multipart import MultipartParser, parse_options_header

    form = FormData()
    headers: dict[bytes, bytes] = {}
    field = bytearray()
    value = bytearray()
    data = bytearray()

    def on_part_begin() -> None:
        headers.clear()
        data.clear()

    def on_header_field(buf: bytes, start: int, end: int) -> None:
        field.extend(buf[start:end])

    def on_header_value(buf: bytes, start: int, end: int) -> None:
        value.extend(buf[start:end])

    def on_header_end() -> None:
        headers[bytes(field).lower()] = bytes(value)
        field.clear()
        value.clear()

    def on_part_data(buf: bytes, start: int, end: int) -> None:
        data.extend(buf[start:end])

    def on_part_end() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8")
        if b"filename" in disposition:
            ctype = headers.get(b"content-type", b"application/octet-stream").decode("latin-1")
            form.append(name, File([bytes(data)], disposition[b"filename"].decode("utf-8"), content_type=ctype))
        else:
            form.append(name, bytes(data).decode("utf-8", errors="replace"))

    callbacks: Any = {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own error types; JS raises TypeError
        raise JsTypeError(f"Failed to parse body as FormData: {exc}") from exc
    return form
