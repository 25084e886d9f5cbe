"""A standard justification: one reason, written once in the three languages."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.extensions import db
from review_app.requirements.models import Area
from review_app.time import utcnow

#: A standard justification is a sentence or a short paragraph, not an essay.
MAX_TEMPLATE = 2000


class JustificationTemplate(db.Model):
    """A reason reviewers give again and again ("no legal basis in a law"), kept by the area's
    leads (``area_id``) or, national, by admins (``area_id`` is None)."""

    __tablename__ = "justification_templates"
    audit_type = "justification"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The area whose reviewers are offered it; None: offered in every area (national).
    area_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    text_kk: so.Mapped[str] = so.mapped_column(sa.Text)
    text_ru: so.Mapped[str] = so.mapped_column(sa.Text)
    text_en: so.Mapped[str] = so.mapped_column(sa.Text)
    #: Retired ones stay (their usage is history) but are no longer offered.
    active: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    #: How many saved proposals started from it (counted when the proposal is saved).
    usage_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    area: so.Mapped[Area | None] = so.relationship()

    def text(self, language: str) -> str:
        """The text in ``language``, or in Russian when that one is missing."""
        return getattr(self, f"text_{language}", None) or self.text_ru

    @property
    def audit_label(self) -> str:
        return self.text_ru[:80]
