"""Every model, imported in one place so Alembic and the app see the whole schema."""

from review_app.api.models import ApiToken
from review_app.audit.models import AuditEntry
from review_app.auth.models import AreaMembership, AreaRole, GlobalRole, User
from review_app.imports.models import ImportBatch, ImportFileChunk
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.reviews.models import Action, IndependentProposal, ReviewEvent
from review_app.summaries.models import Summary, SummaryChunk

__all__ = [
    "ApiToken",
    "AuditEntry", "ImportBatch", "ImportFileChunk",
    "Action", "Area", "AreaMembership", "AreaRole", "Decision", "GlobalRole", "IndependentProposal",
    "Requirement",
    "ReviewEvent", "State", "Summary", "SummaryChunk", "User",
]
