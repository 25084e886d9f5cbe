"""Every model, imported in one place so Alembic and the app see the whole schema."""

from review_app.api.models import ApiToken
from review_app.audit.models import AuditEntry
from review_app.auth.models import AreaMembership, AreaRole, GlobalRole, User
from review_app.dashboard.models import (
    AreaDeadline,
    AreaTally,
    DailyActivity,
    ProgrammeSettings,
    WaitingDay,
)
from review_app.duplicates.models import DuplicateGroup, DuplicateMember, DuplicateRun, TextBand
from review_app.imports.models import ImportBatch, ImportFileChunk
from review_app.justifications.models import JustificationTemplate
from review_app.notifications.models import Notification, NotificationKind
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.reviews.models import Action, IndependentProposal, ReviewEvent
from review_app.scm.models import ScmCost, Tariff
from review_app.summaries.models import Summary, SummaryChunk

__all__ = [
    "AreaDeadline", "AreaTally", "AuditEntry", "DailyActivity", "ProgrammeSettings", "WaitingDay",
    "ImportBatch", "ImportFileChunk", "Notification", "NotificationKind",
    "DuplicateGroup", "DuplicateMember", "DuplicateRun", "TextBand",
    "JustificationTemplate",
    "ApiToken",
    "Action", "Area", "AreaMembership", "AreaRole", "Decision", "GlobalRole", "IndependentProposal",
    "Requirement",
    "ReviewEvent", "State", "Summary", "SummaryChunk", "ScmCost", "Tariff", "User",
]
