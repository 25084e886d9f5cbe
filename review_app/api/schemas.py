"""The API's bodies, as pydantic models: they validate what comes in, shape what goes out, and
their JSON Schema (2020-12, which OpenAPI 3.1 uses as is) is the OpenAPI document's."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime as _datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

#: Times are stored as naive UTC; the API writes them as RFC 3339 with "Z", as the JSON
#: Schema "date-time" format requires.
datetime = Annotated[_datetime, PlainSerializer(
    lambda value: value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
    return_type=str, when_used="json")]

StateName = Literal["unreviewed", "proposed", "returned", "approved"]
DecisionName = Literal["cancel", "revise", "keep"]


class Body(BaseModel):
    """A request body: unknown keys are refused, values are taken as sent (no coercion)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# Requests -------------------------------------------------------------------------------------

class ProposalIn(Body):
    decision: DecisionName
    legal: bool
    necessary: bool
    business_friendly: bool
    justification: str = Field(max_length=10_000)
    new_wording: str | None = Field(default=None, max_length=50_000)
    deviation_reason: str | None = Field(default=None, max_length=10_000)

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [{
        "decision": "cancel", "legal": True, "necessary": False, "business_friendly": False,
        "justification": "Duplicates the general fire safety rules."}]})


class ApprovalIn(Body):
    comment: str = Field(default="", max_length=10_000)
    #: Under dual review with disagreeing proposals: the id of the one approved.
    chosen_proposal_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"comment": "Agreed."}]})


class CommentIn(Body):
    text: str = Field(max_length=10_000)

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"text": "Please check the 2023 amendment."}]})


class ReasonIn(Body):
    reason: str = Field(max_length=10_000)

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"reason": "The act was amended after approval."}]})


class AssigneeIn(Body):
    #: "me" to take it, a person's id to give it to them, null to unassign.
    assignee: Literal["me"] | int | None = Field(json_schema_extra={"minimum": 1})

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"assignee": "me"}]})


class BulkItem(Body):
    id: int = Field(ge=1, le=2**31 - 1)
    #: The version the caller read (its ETag without the quotes and the "v").
    version: int = Field(ge=1, le=2**31 - 1)


class BulkIn(Body):
    items: list[BulkItem] = Field(min_length=1, max_length=5_000)
    comment: str = Field(default="", max_length=10_000)

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"items": [{"id": 1, "version": 2}], "comment": "Agreed."}]})


class TokenIn(Body):
    name: str = Field(max_length=100)
    scope: Literal["read", "write"]
    expires_in_days: int = Field(default=90, ge=1, le=366)

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"name": "register sync", "scope": "read", "expires_in_days": 30}]})


class PublicationIn(Body):
    published: bool

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"published": True}]})


# Responses ------------------------------------------------------------------------------------

class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonOut(Out):
    id: int
    name: str


class RequirementSummaryOut(Out):
    id: int
    code: str
    area: str
    title: str
    issuing_body: str | None
    annual_cost_kzt: int | None
    state: StateName
    decision: DecisionName | None
    assignee: PersonOut | None
    version: int
    updated_at: datetime


class RequirementListOut(Out):
    items: list[RequirementSummaryOut]
    total: int
    next_cursor: str | None
    prev_cursor: str | None


class EventOut(Out):
    id: int
    action: str
    actor: PersonOut | None
    from_state: StateName | None
    to_state: StateName | None
    decision: DecisionName | None
    text: str | None
    new_wording: str | None
    assignee: PersonOut | None
    created_at: datetime


class RequirementOut(Out):
    id: int
    code: str
    area: str
    title: str
    text: str
    legal_act: str | None
    legal_act_ref: str | None
    article: str | None
    issuing_body: str | None
    oked: str | None
    annual_cost_kzt: int | None
    businesses_affected: int | None
    state: StateName
    decision: DecisionName | None
    legal: bool | None
    necessary: bool | None
    business_friendly: bool | None
    justification: str | None
    deviation_reason: str | None
    new_wording: str | None
    proposed_by: PersonOut | None
    proposed_at: datetime | None
    decided_by: PersonOut | None
    decided_at: datetime | None
    assignee: PersonOut | None
    version: int
    updated_at: datetime
    history: list[EventOut]


class AreaOut(Out):
    code: str
    name: str
    total: int
    #: Counts by state and the share approved: for the area's lead, managers and admins
    #: (null for reviewers, as on the pages).
    by_state: dict[str, int] | None
    percent_done: float | None
    published: bool


class AreaListOut(Out):
    items: list[AreaOut]


class ClaimOut(Out):
    requirement: RequirementOut | None


class BulkSkippedOut(Out):
    id: int
    code: str
    reason: str


class BulkOut(Out):
    done: list[int]
    skipped: list[BulkSkippedOut]


class MeOut(Out):
    id: int
    email: str
    name: str
    role: str | None
    areas: dict[str, str]
    token_scope: Literal["read", "write"]


class TokenOut(Out):
    id: int
    name: str
    scope: Literal["read", "write"]
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    #: The token itself: shown this once, never again.
    token: str


class TokenListOut(Out):
    items: list[TokenOut]


class ProblemFieldOut(Out):
    field: str
    message: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemFieldOut] | None = None


class SummaryIn(Body):
    #: An area code, or null for the summary of all areas (managers, admins).
    area: str | None = Field(default=None, max_length=8)
    format: Literal["xlsx", "csv", "pdf"]

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"area": "01", "format": "xlsx"}]})


class SummaryOut(Out):
    id: int
    area: str | None
    format: Literal["xlsx", "csv", "pdf"]
    language: str
    status: Literal["queued", "running", "done", "failed"]
    progress: int
    requested_at: datetime
    as_of: datetime | None
    size_bytes: int | None
    error: str | None
    #: Whether this request started it (false: the same one was already under way).
    created: bool | None = None


class SummaryListOut(Out):
    items: list[SummaryOut]


class ImportProblemOut(Out):
    code: str
    row: int | None
    column: str | None
    message: str


class ImportOut(Out):
    id: int
    filename: str
    status: Literal["queued", "analysing", "ready", "invalid", "applying", "applied", "failed",
                    "discarded"]
    total_rows: int | None
    new_count: int | None
    changed_count: int | None
    unchanged_count: int | None
    rereview_count: int | None
    error_count: int | None
    problems: list[ImportProblemOut]
    failure: str | None
