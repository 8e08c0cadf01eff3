"""The JSON request parser of every REST endpoint and of the tracking API: bounded before and after
decompression, gzip understood, NUL characters refused per field."""

from __future__ import annotations

import zlib

import orjson
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

from churnapp.validation import nul_paths

MAX_BODY_BYTES = 5 * 1024 * 1024  # documented: 413 above 5 MB on the wire
MAX_DECOMPRESSED_BYTES = 20 * 1024 * 1024  # and above 20 MB once decompressed (gzip bombs)
NUL_MESSAGE = "NUL (\\u0000) characters are not allowed."


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"Request body over {MAX_BODY_BYTES // (1024 * 1024)} MB."
    default_code = "payload_too_large"


class UnsupportedEncoding(exceptions.APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = "Unsupported Content-Encoding (use gzip or none)."
    default_code = "unsupported_encoding"


def read_body(stream, request) -> bytes:
    """The request body, gunzipped when `Content-Encoding: gzip`; 413 over the limits, 400 on a broken gzip
    stream, 415 for any other encoding."""
    body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise UnsupportedEncoding()
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise exceptions.ParseError(f"Malformed gzip body: {exc}") from exc
    if len(data) > MAX_DECOMPRESSED_BYTES:
        raise PayloadTooLarge(f"Decompressed body over {MAX_DECOMPRESSED_BYTES // (1024 * 1024)} MB.")
    if not decompressor.eof:
        raise exceptions.ParseError("Malformed gzip body: truncated stream.")
    return data


class BoundedJSONParser(BaseParser):
    """JSON (UTF-8, optionally gzip-compressed) parsed with orjson; anything unusable is a clear 400, 413 or 415.

    A string or key holding a NUL character is a 400 naming each such field (PostgreSQL cannot store it), so no
    endpoint ever fails on it half-way."""

    media_type = "application/json"
    reject_nul = True

    def parse(self, stream, media_type=None, parser_context=None):
        body = read_body(stream, parser_context["request"])
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from exc
        if self.reject_nul and b"\\u0000" in body:
            paths = nul_paths(data)
            if paths:
                raise exceptions.ValidationError({path: [NUL_MESSAGE] for path in paths})
        return data
