"""Helpers for the API stories: a person's token, and requests made with it."""

from __future__ import annotations

from review_app.api import tokens
from review_app.auth.models import User
from review_app.extensions import db


def token_for(user: User, scope: str = "write", name: str = "script") -> str:
    """A fresh token of ``user`` (created as the page would), committed."""
    user = db.session.merge(user)
    _row, secret = tokens.create(user, name=name, scope=scope)
    db.session.commit()
    return secret


class Api:
    """A script holding one token: ``api.get(path)``, ``api.post(path, json, etag=...)``."""

    def __init__(self, client, secret: str | None, language: str = "en"):
        self.client, self.secret, self.language = client, secret, language

    def headers(self, etag: str | None = None, **more) -> dict:
        headers = {"Accept-Language": self.language, **more}
        if self.secret:
            headers["Authorization"] = f"Bearer {self.secret}"
        if etag:
            headers["If-Match"] = etag
        return headers

    def get(self, path: str, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(), **kwargs)

    def post(self, path: str, json=None, etag: str | None = None):
        return self.client.post("/api/v1" + path, json=json, headers=self.headers(etag))

    def put(self, path: str, json=None):
        return self.client.put("/api/v1" + path, json=json, headers=self.headers())

    def delete(self, path: str):
        return self.client.delete("/api/v1" + path, headers=self.headers())

    def etag(self, requirement_id: int) -> str:
        return self.get(f"/requirements/{requirement_id}").headers["ETag"]


PROPOSAL = {"decision": "cancel", "legal": True, "necessary": False, "business_friendly": False,
            "justification": "Дублирует общие правила."}
