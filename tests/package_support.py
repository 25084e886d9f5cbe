"""Helpers for the amendment package tests: decided requirements made through the real
workflow (a reviewer proposes, the lead approves), and the files read back."""

from __future__ import annotations

import io

import docx

from tests.conftest import decide, login_as, propose


def approved(client, world, reviewer, lead, area, decision: str, **fields):
    """A requirement of ``area`` proposed by ``reviewer`` and approved by ``lead``."""
    req = world.requirement(area, **fields)
    login_as(client, reviewer)
    assert propose(client, req, decision).status_code in (302, 303)
    login_as(client, lead)
    assert decide(client, req, "approve").status_code in (302, 303)
    return req


def docx_tables(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """The headings (in order) and every table's rows of cell texts of a DOCX."""
    document = docx.Document(io.BytesIO(data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    tables = [[[cell.text for cell in row.cells] for row in table.rows]
              for table in document.tables]
    return headings, tables
