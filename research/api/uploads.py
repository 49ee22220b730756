"""Reading a source file from a multipart request, and the run sources list's parameters."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from ats.errors import FieldError, InvalidInput
from research.schemas import MAX_SOURCE_TITLE
from research.services.sources import (
    MAX_FILE_BYTES,
    MSG_FILE_TOO_LARGE,
    SourceTooLarge,
    UploadedFile,
)

FORM_FIELDS = ("file", "title")
MSG_FILE_MISSING = "Upload the file in the multipart form field 'file'."
MSG_ONE_FILE = "Upload one file per request."
MSG_UNKNOWN_FIELD = "Unknown form field; the form has 'file' and an optional 'title'."
MSG_TITLE_TOO_LONG = f"The title may have at most {MAX_SOURCE_TITLE:,} characters."

RUN_SOURCE_LIST_PARAMETERS = [
    OpenApiParameter("stage", str, description="queued, fetched, extracted or classified."),
    OpenApiParameter("state", str, description="pending, running, done or failed."),
    OpenApiParameter("decision", str, description="The decision in the run: accept, flag, reject."),
    OpenApiParameter("kind", str, description="text, url, file (or bundle, list)."),
]


def uploaded_file(request: Request) -> UploadedFile:
    """The request's `file` (and `title`), or InvalidInput / SourceTooLarge naming `file`."""
    errors = [
        FieldError(name, MSG_UNKNOWN_FIELD, "unknown_field")
        for name in sorted(set(request.data) - set(FORM_FIELDS))
    ]
    files = request.FILES.getlist("file")
    if not files:
        errors.append(FieldError("file", MSG_FILE_MISSING, "missing"))
    elif len(files) > 1:
        errors.append(FieldError("file", MSG_ONE_FILE, "too_many"))
    title = str(request.data.get("title", "")).strip()
    if len(title) > MAX_SOURCE_TITLE:
        errors.append(FieldError("title", MSG_TITLE_TOO_LONG, "string_too_long"))
    if errors:
        raise InvalidInput(f"The upload is invalid: {len(errors)} error(s).", errors=errors)
    upload = files[0]
    if upload.size > MAX_FILE_BYTES:  # refused before reading it
        raise SourceTooLarge(
            MSG_FILE_TOO_LARGE, errors=[FieldError("file", MSG_FILE_TOO_LARGE, "too_large")]
        )
    return UploadedFile(
        body=upload.read(),
        filename=upload.name or "",
        declared_type=upload.content_type,
        title=title,
    )
