"""OAI-PMH errors: each protocol error code is one exception (the spec's section 3.6)."""

from __future__ import annotations

from typing import ClassVar

from fedsearch.errors import FedsearchError


class OaiError(FedsearchError):
    """A protocol error: the response is 200 with <error code="...">message</error>."""

    code = "badArgument"
    error_code: ClassVar[str] = "api.oai.badArgument"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.error_code = f"api.oai.{cls.code}"  # the spec's own code, as OAI-PMH spells it

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadArgument(OaiError):
    code = "badArgument"


class BadVerb(OaiError):
    code = "badVerb"


class CannotDisseminateFormat(OaiError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OaiError):
    code = "idDoesNotExist"


class NoRecordsMatch(OaiError):
    code = "noRecordsMatch"


class NoMetadataFormats(OaiError):
    code = "noMetadataFormats"


class BadResumptionToken(OaiError):
    code = "badResumptionToken"


class NoSetHierarchy(OaiError):
    """Never raised here (we have sets); kept so every code of the spec has its class."""

    code = "noSetHierarchy"
