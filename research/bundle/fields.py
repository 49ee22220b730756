"""Reusable field types of the bundle format: strict strings, hashes, URLs, codes, dates.

Strings are strict (a number is not a name) and stripped unless they are hashed content.
Optional types read blank strings as absent (agents write ``""`` for "unknown"); defaults are
set on the fields. Each type carries its rules into the JSON Schema.
"""

import re
from datetime import date, datetime
from typing import Annotated, Any, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from research.iso_codes import COUNTRY_CODES, CURRENCY_CODES

from . import issues
from .issues import clip
from .normalize import MAX_METRIC_KEY_LENGTH, collapse_whitespace, normalize_metric_key

MAX_URL_LENGTH = 2_000
MAX_DOMAIN_LENGTH = 253

_HEX64 = re.compile(r"[0-9a-f]{64}")
_URL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_MIME_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MIME_ESSENCE = re.compile(rf"{_MIME_TOKEN}/{_MIME_TOKEN}")
_URL_MARKER = re.compile(r"[/?#@:]")  # what a bare domain cannot hold


# Required and optional strings: strict (a number is not a name) and stripped. Their lengths are
# set on each field, e.g. ``query: Str = Field(min_length=1, max_length=2_000)``.
Str = Annotated[str, Strict(), StringConstraints(strip_whitespace=True)]


def blank_to_none(value: Any) -> Any:
    """Read ``""`` (or only whitespace) as absent."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


OptionalStr = Annotated[Str | None, BeforeValidator(blank_to_none)]


def null_as_empty(input_type: Any) -> BeforeValidator:
    """Read ``null`` as an empty list or object (``input_type``, shown in the JSON Schema)."""
    empty = get_origin(input_type) or input_type  # list or dict

    def read(value: Any) -> Any:
        return empty() if value is None else value

    return BeforeValidator(read, json_schema_input_type=input_type | None)


def _check_sha256(value: str) -> str:
    lowered = value.lower()
    if len(lowered) != 64 or not _HEX64.fullmatch(lowered):
        raise PydanticCustomError(issues.SHA256_FORMAT, issues.MSG_SHA256_FORMAT)
    return lowered


Sha256 = Annotated[
    str,
    Strict(),
    AfterValidator(_check_sha256),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9a-fA-F]{64}$",
            "description": "SHA-256 hex digest; any case, stored lowercase.",
        }
    ),
]


def _check_http_url(value: str) -> str:
    if _URL_FORBIDDEN.search(value):
        raise PydanticCustomError(issues.URL_PARSING, issues.MSG_URL_PARSING)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a malformed port)
    except ValueError:
        raise PydanticCustomError(issues.URL_PARSING, issues.MSG_URL_PARSING) from None
    if parts.scheme.lower() not in ("http", "https"):
        if not parts.scheme:
            raise PydanticCustomError(issues.URL_PARSING, issues.MSG_URL_PARSING)
        raise PydanticCustomError(issues.URL_SCHEME, issues.MSG_URL_SCHEME)
    if not parts.hostname:
        raise PydanticCustomError(issues.URL_PARSING, issues.MSG_URL_PARSING)
    return value


HttpUrlStr = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, max_length=MAX_URL_LENGTH),
    AfterValidator(_check_http_url),
    Field(json_schema_extra={"format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}),
]
OptionalHttpUrl = Annotated[HttpUrlStr | None, BeforeValidator(blank_to_none)]


def _check_domain(value: str) -> str:
    host = value.strip().lower()
    if _URL_MARKER.search(host):
        try:
            suggestion = urlsplit(host if "://" in host else f"//{host}").hostname
        except ValueError:
            suggestion = None
        raise PydanticCustomError(
            issues.DOMAIN_IS_URL,
            issues.MSG_DOMAIN_IS_URL,
            {"hostname": (suggestion or "example.com")[:MAX_DOMAIN_LENGTH]},
        )
    host = host.removesuffix(".")
    try:
        # An ASCII host is its own IDNA form (its labels are checked below).
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise PydanticCustomError(issues.DOMAIN_FORMAT, issues.MSG_DOMAIN_FORMAT) from None
    labels = ascii_host.split(".")
    if (
        len(ascii_host) > MAX_DOMAIN_LENGTH
        or len(labels) < 2
        or not all(_HOST_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise PydanticCustomError(issues.DOMAIN_FORMAT, issues.MSG_DOMAIN_FORMAT)
    return host


Domain = Annotated[
    str,
    Strict(),
    AfterValidator(_check_domain),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_DOMAIN_LENGTH,
            "description": "Bare hostname such as 'example.com' (no scheme, port or path); "
            "stored lowercase without a trailing dot.",
        }
    ),
]
OptionalDomain = Annotated[Domain | None, BeforeValidator(blank_to_none)]


def _check_country(value: str) -> str:
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        raise PydanticCustomError(
            issues.COUNTRY_CODE, issues.MSG_COUNTRY_CODE, {"value": clip(value, 20)}
        )
    return code


CountryCode = Annotated[
    str,
    Strict(),
    AfterValidator(_check_country),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "ISO 3166-1 alpha-2 country code, any case; stored uppercase.",
        }
    ),
]
OptionalCountryCode = Annotated[CountryCode | None, BeforeValidator(blank_to_none)]


def _check_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCY_CODES:
        raise PydanticCustomError(
            issues.CURRENCY_CODE, issues.MSG_CURRENCY_CODE, {"value": clip(value, 20)}
        )
    return code


CurrencyCode = Annotated[
    str,
    Strict(),
    AfterValidator(_check_currency),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z]{3}$",
            "description": "Active ISO 4217 currency code, any case; stored uppercase.",
        }
    ),
]
OptionalCurrencyCode = Annotated[CurrencyCode | None, BeforeValidator(blank_to_none)]


def _check_mime_type(value: str) -> str:
    essence, sep, params = value.partition(";")
    essence = essence.strip().lower()
    if not _MIME_ESSENCE.fullmatch(essence):
        raise PydanticCustomError(issues.MIME_TYPE_FORMAT, issues.MSG_MIME_TYPE_FORMAT)
    return f"{essence}; {params.strip()}" if sep and params.strip() else essence


MimeType = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, max_length=255),
    AfterValidator(_check_mime_type),
]
OptionalMimeType = Annotated[MimeType | None, BeforeValidator(blank_to_none)]


def _datetime_input(value: Any) -> Any:
    # Pydantic would read a number as a Unix timestamp: a bundle writes ISO 8601 strings.
    if not isinstance(value, str | datetime):
        raise PydanticCustomError(issues.DATETIME_TYPE, issues.MSG_DATETIME_TYPE)
    return value


def _date_input(value: Any) -> Any:
    if not isinstance(value, str | date):
        raise PydanticCustomError(issues.DATE_TYPE, issues.MSG_DATE_TYPE)
    return value


IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_datetime_input)]
OptionalDatetime = Annotated[IsoDatetime | None, BeforeValidator(blank_to_none)]
IsoDate = Annotated[date, BeforeValidator(_date_input)]
OptionalDate = Annotated[IsoDate | None, BeforeValidator(blank_to_none)]

# Lengths are checked before whitespace runs collapse: a name is limited as written.
Name = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(collapse_whitespace),
]


def _check_metric_key(value: str) -> str:
    key = normalize_metric_key(value)
    if not key:
        raise PydanticCustomError(issues.METRIC_KEY_EMPTY, issues.MSG_METRIC_KEY_EMPTY)
    if len(key) > MAX_METRIC_KEY_LENGTH:
        raise PydanticCustomError(
            issues.METRIC_KEY_TOO_LONG,
            issues.MSG_METRIC_KEY_TOO_LONG,
            {"limit": str(MAX_METRIC_KEY_LENGTH), "length": f"{len(key):,}"},
        )
    return key


MetricKey = Annotated[
    str,
    Strict(),
    AfterValidator(_check_metric_key),
    WithJsonSchema({"type": "string", "minLength": 1}),
]

UnitInterval = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
JsonObject = Annotated[dict[str, Any], null_as_empty(dict[str, Any])]
