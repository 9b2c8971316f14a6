"""OAI-PMH protocol errors: one exception class per OAI error code, and damaged answers."""

from __future__ import annotations

from typing import ClassVar

from fedsearch.errors import FedsearchError


class OaiError(FedsearchError):
    """An OAI-PMH error the repository answered with."""

    code: ClassVar[str] = "unknown"
    hint: ClassVar[str] = ""

    def __init__(self, message: str = "", *, url: str | None = None, code: str | None = None):
        self.message = message.strip()
        self.url = url
        if code:
            self.code = code
        self.error_code = f"partner.oai.{self.code}"  # type: ignore[misc] - the repository's own code
        super().__init__(self.describe())

    def describe(self) -> str:
        text = f"the repository answered with OAI-PMH error {self.code}"
        if self.message:
            text += f" ({self.message})"
        if self.hint:
            text += f"; {self.hint}"
        if self.url:
            text += f" (URL: {self.url})"
        return text


class BadArgument(OaiError):
    code = "badArgument"
    hint = "check metadata_prefix and sets against the repository's ListMetadataFormats and ListSets"


class BadResumptionToken(OaiError):
    code = "badResumptionToken"
    hint = "the resumption token is invalid or expired"


class BadVerb(OaiError):
    code = "badVerb"
    hint = "the URL may not be an OAI-PMH endpoint; check the base URL"


class CannotDisseminateFormat(OaiError):
    code = "cannotDisseminateFormat"
    hint = "the repository does not offer this metadata_prefix; its ListMetadataFormats says which it does"


class IdDoesNotExist(OaiError):
    code = "idDoesNotExist"


class NoMetadataFormats(OaiError):
    code = "noMetadataFormats"


class NoRecordsMatch(OaiError):
    code = "noRecordsMatch"


class NoSetHierarchy(OaiError):
    code = "noSetHierarchy"
    hint = "the repository has no sets; remove `sets` from the source"


OAI_ERRORS: dict[str, type[OaiError]] = {
    cls.code: cls
    for cls in (
        BadArgument,
        BadResumptionToken,
        BadVerb,
        CannotDisseminateFormat,
        IdDoesNotExist,
        NoMetadataFormats,
        NoRecordsMatch,
        NoSetHierarchy,
    )
}


class OaiResponseError(FedsearchError):
    """An answer we cannot read as OAI-PMH (not XML, unsafe XML, another kind of document)."""

    error_code = "partner.oai.unreadable"

    def __init__(self, message: str, *, url: str | None = None):
        self.message = message + (f" (URL: {url})" if url else "")
        self.url = url
        super().__init__(self.message)


class DamagedPage(OaiResponseError):
    """A ListRecords answer too damaged to read at all (garbage, or cut before its first record)."""

    error_code = "partner.oai.damaged_page"
