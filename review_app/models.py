"""Every model, imported in one place so Alembic and the app see the whole schema."""

from review_app.auth.models import AreaMembership, AreaRole, GlobalRole, User
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.reviews.models import Action, ReviewEvent

__all__ = [
    "Action", "Area", "AreaMembership", "AreaRole", "Decision", "GlobalRole", "Requirement",
    "ReviewEvent", "State", "User",
]
