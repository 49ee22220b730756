"""Validation issues of a bundle, and the codes and messages of the rules pydantic does not know.

An issue's ``type`` is pydantic's error type for pydantic's own checks (``missing``,
``extra_forbidden``, ``string_too_long``...) and one of the codes below for the format's own
rules. Messages are templates: ``{name}`` placeholders are filled from the error's context, so
tests build the expected text with ``MSG_X.format(...)``. Codes and messages are part of the API
contract: clients may branch on ``type``; change a message only on purpose.

Also here: the helpers that raise those errors from inside pydantic validators.
"""

from dataclasses import dataclass
from typing import NoReturn

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

# What JSON or the database cannot store: one definition for the API's edge and bundles.
from ats.jsonvalues import (  # noqa: F401 - part of this module's vocabulary
    INVALID_CHARACTER,
    INVALID_JSON_VALUE,
    MSG_KEY_NOT_STRING,
    MSG_NON_FINITE_NUMBER,
    MSG_NOT_JSON_VALUE,
    MSG_NUL_CHARACTER,
    MSG_NUMBER_TOO_LARGE,
    MSG_UNPAIRED_SURROGATE,
)

# Error codes of our own rules.
UNSUPPORTED_VERSION = "unsupported_version"
RUN_ID_MISMATCH = "run_id_mismatch"
SHA256_FORMAT = "sha256_format"
SHA256_MISMATCH = "sha256_mismatch"
DUPLICATE_SOURCE = "duplicate_source"
UNKNOWN_SOURCE = "unknown_source"
CONTENT_BLANK = "content_blank"
CONTENT_TOO_LARGE = "content_too_large"
DUPLICATE_STEP_KEY = "duplicate_step_key"
STEP_TIME_ORDER = "step_time_order"
METRIC_VALUE_TYPE = "metric_value_type"
METRIC_KEY_EMPTY = "metric_key_empty"
METRIC_KEY_TOO_LONG = "metric_key_too_long"
URL_SCHEME = "url_scheme"  # same code as pydantic's HttpUrl
URL_PARSING = "url_parsing"  # same code as pydantic's HttpUrl
DOMAIN_IS_URL = "domain_is_url"
DOMAIN_FORMAT = "domain_format"
COUNTRY_CODE = "country_code"
CURRENCY_CODE = "currency_code"
MIME_TYPE_FORMAT = "mime_type_format"
DATETIME_TYPE = "datetime_type"  # pydantic's code, with a message that names the format
DATE_TYPE = "date_type"  # pydantic's code, with a message that names the format
ALIAS_TYPE = "alias_type"
EVIDENCE_TYPE = "evidence_type"
TOO_MANY_ERRORS = "too_many_errors"

# Warning codes: the bundle is still valid.
UNVERIFIED_EVIDENCE = "unverified_evidence"
DUPLICATE_COMPANY = "duplicate_company"
MIXED_SCRIPT = "mixed_script"
TOO_MANY_WARNINGS = "too_many_warnings"

MSG_UNSUPPORTED_VERSION = (
    "Unsupported bundle version {version}; this server accepts 'run_bundle_v1'"
)
MSG_RUN_ID_MISMATCH = "run_id should be {expected}, the id of the run this bundle is uploaded to"
MSG_SHA256_FORMAT = "Value should be a SHA-256 hex digest: 64 hexadecimal characters"
MSG_SHA256_MISMATCH = (
    "sha256 does not match content_text: the SHA-256 of its UTF-8 bytes is {expected}"
)
MSG_DUPLICATE_SOURCE = "Source {sha256} is already listed at sources.{first}; list each source once"
MSG_UNKNOWN_SOURCE = "Source {sha256} is not one of the bundle's sources"
MSG_CONTENT_BLANK = "content_text should contain text, not only whitespace"
MSG_CONTENT_TOO_LARGE = "content_text should be at most {limit} bytes in UTF-8, not {size}"
MSG_NOT_SERIALIZABLE = "The bundle cannot be serialized as JSON: {reason}"
MSG_DUPLICATE_STEP_KEY = "step_key {step_key} is already used by steps.{first}; keys are unique"
MSG_STEP_TIME_ORDER = "finished_at should not be before started_at"
MSG_METRIC_VALUE_TYPE = "value should be {expected} for a metric of type '{metric_type}'"
METRIC_VALUE_EXPECTATIONS: dict[str, str] = {
    "number": "a finite number (not a boolean or a string)",
    "text": "a non-blank string of at most 10,000 characters",
    "bool": "true or false",
    "json": "a JSON object or array",
}
MSG_METRIC_KEY_EMPTY = "Metric key should contain at least one letter or digit"
MSG_METRIC_KEY_TOO_LONG = (
    "Metric key should have at most {limit} characters after normalization, not {length}"
)
MSG_URL_SCHEME = "URL scheme should be 'http' or 'https'"
MSG_URL_PARSING = (
    "Input should be an absolute http(s) URL with a host, such as 'https://example.com'"
)
MSG_DOMAIN_IS_URL = (
    "domain should be a bare hostname such as '{hostname}', not a URL; "
    "put the full address in website_url"
)
MSG_DOMAIN_FORMAT = "domain should be a hostname such as 'example.com'"
MSG_COUNTRY_CODE = "{value} is not an ISO 3166-1 alpha-2 country code such as 'US', 'DE' or 'GB'"
MSG_CURRENCY_CODE = "{value} is not an active ISO 4217 currency code such as 'USD', 'EUR' or 'GBP'"
MSG_MIME_TYPE_FORMAT = "mime_type should look like 'type/subtype', such as 'text/html'"
MSG_DATETIME_TYPE = (
    "Input should be an ISO 8601 datetime string with a timezone, such as '2026-01-31T09:30:00Z'"
)
MSG_DATE_TYPE = "Input should be an ISO 8601 date string, such as '2026-01-31'"
MSG_ALIAS_TYPE = "Alias should be a string or an object with name and type"
MSG_EVIDENCE_TYPE = "Evidence snippet should be a string or an object with text and source_sha256"
MSG_JSON_OBJECT = "Input should be a JSON object"
MSG_JSON_ARRAY = "Input should be a JSON array"
MSG_TOO_MANY_ERRORS = "{count} more errors are not shown"
MSG_TOO_MANY_WARNINGS = "{count} more warnings are not shown"
MSG_UNVERIFIED_EVIDENCE = (
    "Snippet not found in the text of source {sha256}; reviewers will see it as unverified"
)
MSG_UNVERIFIED_EVIDENCE_ANY = (
    "Snippet not found in the text of any of the company's sources; "
    "reviewers will see it as unverified"
)
MSG_DUPLICATE_COMPANY = (
    "Same {field} as proposal_json.companies.{first}: both may be the same company"
)
MSG_MIXED_SCRIPT = (
    "The name mixes Latin and {script} letters ('{letter}' is {script}): it may imitate "
    "another company's name"
)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a bundle: an error (the bundle is refused) or a warning.

    ``loc`` is the dotted path of the offending value, list indices as numbers, for example
    ``"proposal_json.companies.3.source_sha256s.0"``; ``""`` is the bundle itself.
    """

    loc: str
    msg: str
    type: str

    def as_dict(self) -> dict[str, str]:
        """Return ``{"loc", "msg", "type"}``, the shape of SPEC §5's validation answer."""
        return {"loc": self.loc, "msg": self.msg, "type": self.type}


Loc = tuple[int | str, ...]


def format_loc(loc: Loc) -> str:
    """Join a pydantic location into the dotted form of ``Issue.loc``."""
    return ".".join(str(part) for part in loc)


def clip(value: object, limit: int = 80) -> str:
    """Describe ``value`` for a message in at most ``limit`` characters: never echo a big input."""
    if isinstance(value, str):
        text = repr(value[:limit])  # cut before repr: the repr of a 2 MB string is 2 MB too
    elif value is None or isinstance(value, bool | float):
        text = repr(value)
    elif isinstance(value, int):
        text = repr(value) if value.bit_length() < 64 else "a very large number"
    elif isinstance(value, dict):
        text = "an object"
    elif isinstance(value, list | tuple):
        text = "an array"
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Raising from validators. A ValidationError raised inside a pydantic validator keeps its line
# errors and their locations, prefixed with the validator's own location: that is how one check
# reports many errors, or an error located at one field of the object it checks.


def line_error(
    code: str, template: str, loc: Loc, context: dict[str, str] | None = None
) -> InitErrorDetails:
    """One error of our own rules, for ``ValidationError.from_exception_data``.

    The input is left out on purpose: it may be megabytes.
    """
    return InitErrorDetails(type=PydanticCustomError(code, template, context), loc=loc, input=None)


def raise_all(title: str, errors: list[InitErrorDetails]) -> None:
    """Raise the errors found by a validator, if any, at their own locations."""
    if errors:
        raise ValidationError.from_exception_data(title, errors)


def fail(
    title: str, code: str, template: str, loc: Loc, context: dict[str, str] | None = None
) -> NoReturn:
    """Raise one error of our own rules at ``loc``, relative to the object being validated."""
    raise ValidationError.from_exception_data(title, [line_error(code, template, loc, context)])
