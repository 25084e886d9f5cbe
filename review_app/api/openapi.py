"""The OpenAPI 3.1 document, generated from the code: every ``/api/v1`` rule in the URL map,
with what its view's ``@operation`` mark says, and the pydantic models' JSON Schemas.

Why pydantic and no framework (flask-smorest, spectree): the API validates bodies with the
same models, their JSON Schema 2020-12 is OpenAPI 3.1's schema dialect as it is (no
translation layer to drift), and the list keeps using the pages' WTForms filter form, which an
API framework would want to replace with its own.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template
from pydantic import BaseModel

from review_app.api import schemas
from review_app.imports.forms import DELIMITER_CHOICES, ENCODING_CHOICES

bp = Blueprint("api_docs", __name__)

VERSION = "1.0.0"
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REF = "#/components/schemas/{model}"


def _collect(models: dict[str, dict], model: type[BaseModel]) -> dict:
    """``model``'s schema in ``components``, with its nested definitions, and a reference."""
    schema = model.model_json_schema(ref_template=_REF)
    for name, definition in schema.pop("$defs", {}).items():
        models[name] = definition
    models[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _problem(status: int) -> dict:
    return {"description": f"Problem details ({status})",
            "content": {"application/problem+json": {
                "schema": {"$ref": _REF.format(model="ProblemOut")}}}}


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []
    for converter, name in _PARAM.findall(rule):
        schema = ({"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
                  if converter == "int" else {"type": "string", "maxLength": 8})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PARAM.sub(r"{\2}", rule), params


def build(app: Flask) -> dict[str, Any]:
    models: dict[str, dict] = {}
    _collect(models, schemas.ProblemOut)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        op = getattr(view, "api_operation", None)
        if op is None:
            continue
        path, params = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"),
                "summary": op["summary"], "tags": [op["tag"]],
                "parameters": [*params, *({**q, "in": "query", "required": False}
                                          for q in op["query"])],
                "responses": {},
            }
            if op["scope"] is None:
                operation["security"] = []
            else:
                operation["security"] = [{"token": []}]
                operation["description"] = f"Needs a token with the “{op['scope']}” scope."
                operation["responses"]["401"] = _problem(401)
                operation["responses"]["429"] = _problem(429)
                if op["scope"] == "write":
                    operation["responses"]["403"] = _problem(403)
            if op["if_match"]:
                operation["parameters"].append({
                    "name": "If-Match", "in": "header", "required": False,
                    "description": "The ETag read (e.g. \"v3\"); 428 without it, 412 if stale",
                    "schema": {"type": "string"}})
            if op["body"] is not None:
                ref = _collect(models, op["body"])
                examples = (op["body"].model_config.get("json_schema_extra") or {}).get(
                    "examples") or []
                content: dict[str, Any] = {"schema": ref}
                if examples:
                    content["example"] = examples[0]
                operation["requestBody"] = {"required": True,
                                            "content": {"application/json": content}}
                operation["responses"]["400"] = _problem(400)
                operation["responses"]["415"] = _problem(415)
                operation["responses"]["422"] = _problem(422)
            if op["upload"]:
                operation["requestBody"] = {"required": True, "content": {
                    "multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "encoding": {"enum": [c.value for c in ENCODING_CHOICES]},
                            "delimiter": {"enum": [c.value for c in DELIMITER_CHOICES]}}}}}}
            ok: dict[str, Any] = {"description": "Done"}
            if op["response"] is not None:
                ok["content"] = {"application/json": {"schema": _collect(models, op["response"])}}
            elif op["media"]:
                ok["content"] = {media: {"schema": {"type": "string", "format": "binary"}}
                                 for media in op["media"].split(",")}
            if op["etag"]:
                ok["headers"] = {"ETag": {"schema": {"type": "string"},
                                          "description": "The requirement's version"}}
            operation["responses"][str(op["status"])] = ok
            if op["etag"] and method == "GET":
                operation["responses"]["304"] = {"description": "Not changed since If-None-Match"}
            for status in op["problems"]:
                operation["responses"][str(status)] = _problem(status)
            if params:
                operation["responses"].setdefault("404", _problem(404))
            if params or op["query"]:
                # A control character anywhere in the address is refused at the edge.
                operation["responses"].setdefault("400", _problem(400))
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Requirements review API", "version": VERSION,
                 "description": "The same rules as the pages. Authenticate with a personal "
                                "access token: `Authorization: Bearer rra_…`. Errors are "
                                "RFC 9457 problem details in the Accept-Language language."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": dict(sorted(models.items())),
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }


@bp.get("/api/v1/openapi.json")
def document():
    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = current_app.extensions["openapi_document"] = build(current_app)
    return jsonify(cached)


@bp.get("/api/docs")
def reference():
    """The reference page: rendered in the browser by our own script from the document."""
    return render_template("api/reference.html")
