"""Request bodies: size-limited, depth-limited JSON, and no value the database cannot store.

- DRF reads the request stream directly, bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE check
  (which only guards `request.body`), so `LimitedJSONParser` enforces the limit: 413, not
  memory growth.
- Python's JSON decoder recurses once per nesting level: a body nested 10,000 deep exhausts the
  stack. The nesting depth is measured on the raw text first, without recursion.
- Whatever a parser returns (JSON, form fields, file names) holding NUL characters, unpaired
  surrogates, NaN/Infinity or out-of-range numbers is refused with 400 naming each value's
  `loc`, before any view code sees it: `LimitedJSONParser` (every DRF view's default) checks
  its own result, and `SafeInputMixin` (viewsets.py) wraps any other parser a view declares
  (multipart, forms) in `CheckedParser`.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, parsers, status

from ats.errors import FieldError, InvalidInput
from ats.jsonvalues import printable, string_problem, unstorable_values

# Deeper than any document this API takes (a bundle's free-form JSON included), far below the
# recursion limit of the decoder and of everything that serializes the value again later.
MAX_JSON_DEPTH = 64
# No single text of the API is longer (a source's text is at most 2 MB); the body limit bounds
# the total.
MAX_STRING_LENGTH = 5_000_000
JSON_TOO_DEEP = "json_too_deep"
MSG_JSON_TOO_DEEP = f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
MSG_UNSTORABLE = "The request holds values that cannot be stored; see errors."
TOO_DEEP = FieldError("", MSG_JSON_TOO_DEEP, JSON_TOO_DEEP)

# A JSON string (or an unterminated one, up to the end); possessive, so scanning stays linear.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]++")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit // (1024 * 1024)} MB.")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, counted without parsing it."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def refuse_unstorable(parsed: Any) -> None:
    """Raise InvalidInput (400) naming every value of a parsed body that cannot be stored."""
    if isinstance(parsed, parsers.DataAndFiles):
        errors = _form_errors(parsed.data, parsed.files)
    elif isinstance(parsed, QueryDict):
        errors = _form_errors(parsed, MultiValueDict())
    else:
        errors = unstorable_values(parsed, max_string_length=MAX_STRING_LENGTH)
    if errors:
        raise InvalidInput(MSG_UNSTORABLE, errors=errors)


class LimitedJSONParser(parsers.JSONParser):
    checks_storable = True  # SafeInputMixin need not wrap it

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(limit)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"The body is not valid {encoding} text: {exc}") from exc
        if json_depth(text) > MAX_JSON_DEPTH:
            raise InvalidInput(MSG_JSON_TOO_DEEP, errors=[TOO_DEEP])
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from exc
        refuse_unstorable(parsed)
        return parsed


def _form_errors(data: QueryDict, files: MultiValueDict) -> list[FieldError]:
    """Form fields and uploaded file names, checked like JSON strings."""
    found: list[FieldError] = []
    for key, values in data.lists():
        found += unstorable_values(
            {key: values[0] if len(values) == 1 else values}, max_string_length=MAX_STRING_LENGTH
        )
    for key, uploads in files.lists():
        names = [upload.name or "" for upload in uploads]
        for index, name in enumerate(names):
            if problem := string_problem(name, max_length=1_000):
                loc = key if len(names) == 1 else f"{key}.{index}"
                found.append(FieldError(printable(f"{loc}.name"), *problem))
    return found


class CheckedParser:
    """Any parser, plus the check that what it parsed can be stored (see module docstring)."""

    checks_storable = True

    def __init__(self, parser: parsers.BaseParser) -> None:
        self.parser = parser
        self.media_type = parser.media_type

    def __getattr__(self, name: str) -> Any:  # renderer_class, etc.: the wrapped parser's
        return getattr(self.parser, name)

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            parsed = self.parser.parse(stream, media_type, parser_context)
        except RecursionError:  # a parser without LimitedJSONParser's depth check
            raise InvalidInput(MSG_JSON_TOO_DEEP, errors=[TOO_DEEP]) from None
        refuse_unstorable(parsed)
        return parsed
