"""The module graph stays readable: the app never imports the workers, jobs go on the queues
by name, views do not borrow from each other's routes, and every import hidden inside a
function says why it must be lazy.

Read from the source with ``ast`` (nothing is imported), so a test fails on the line to fix.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from review_app import queues

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "review_app"

def _modules(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement names (``from a import b`` names ``a`` and ``a.b``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _function_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports anywhere inside a function body (not the module's or an ``if TYPE_CHECKING``)."""
    found = []
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(node for node in ast.walk(func)
                         if isinstance(node, ast.Import | ast.ImportFrom))
    return list({id(node): node for node in found}.values())


def test_the_app_package_never_imports_the_workers_package():
    offenders = [
        f"{_name(path)}:{node.lineno} imports {module}"
        for path in _modules(APP)
        for node in ast.walk(_parse(path)) if isinstance(node, ast.Import | ast.ImportFrom)
        for module in _imported(node)[:1 if isinstance(node, ast.ImportFrom) else None]
        if module == "workers" or module.startswith("workers.")
    ]
    assert not offenders, ("review_app must not import workers (workers imports review_app; "
                           "enqueue jobs by name through review_app.queues): " + "; ".join(
                               offenders))


def test_every_import_inside_a_function_says_why_it_is_lazy():
    missing = []
    for path in _modules(APP, ROOT / "workers"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _function_imports(_parse(path)):
            own = lines[node.lineno - 1]
            above = lines[node.lineno - 2] if node.lineno > 1 else ""
            last = lines[(node.end_lineno or node.lineno) - 1]
            if "#" not in own and "#" not in last and not above.strip().startswith("#"):
                missing.append(f"{_name(path)}:{node.lineno}: {own.strip()}")
    assert not missing, ("move these imports to the top of their module, or say on the line "
                         "(or the line above) why they must be lazy:\n" + "\n".join(missing))


def test_only_a_package_registering_its_blueprint_imports_a_routes_module():
    """Query helpers live in ``queries.py``; the one view-to-view import left is the
    requirement page's renderer, which the review transitions answer refusals with."""
    allowed = {("review_app/reviews/routes.py", "review_app.requirements.routes")}
    offenders = []
    for path in _modules(APP):
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for module in _imported(node):
                if not module.endswith(".routes") or module.startswith("werkzeug"):
                    continue
                own_package = module.rsplit(".", 1)[0].replace(".", "/") + "/__init__.py"
                if _name(path) != own_package and (_name(path), module) not in allowed:
                    offenders.append(f"{_name(path)}:{node.lineno} imports {module}")
    assert not offenders, "; ".join(offenders)


def test_the_requirement_page_is_routed_and_rendered_in_one_module():
    from review_app.requirements import routes
    from review_app.reviews import routes as review_routes

    assert routes.render_requirement.__module__ == "review_app.requirements.routes"
    assert review_routes.render_requirement is routes.render_requirement
    imported = {m for node in ast.walk(_parse(APP / "requirements/routes.py"))
                if isinstance(node, ast.Import | ast.ImportFrom) for m in _imported(node)}
    assert "review_app.reviews.routes" not in imported


def test_the_app_enqueues_only_through_the_queues_module():
    offenders = [
        f"{_name(path)}:{node.lineno}"
        for path in _modules(APP) if _name(path) != "review_app/queues.py"
        for node in ast.walk(_parse(path))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == "enqueue"
        and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "queues")
    ]
    assert not offenders, "enqueue through review_app.queues.enqueue: " + ", ".join(offenders)


def test_a_job_handed_over_as_a_function_object_is_refused(app):
    from workers.imports import analyse_job

    with pytest.raises(ValueError, match="dotted name"):
        queues.enqueue(app, "imports", analyse_job, 1)


def test_every_job_the_app_names_exists_in_the_workers_package():
    import importlib

    from review_app.imports.batches import JOBS
    from review_app.summaries.service import JOB

    for dotted in (JOB, *JOBS.values()):
        module, _, function = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), dotted


def test_an_unknown_queue_is_refused_with_the_known_names(app):
    with pytest.raises(ValueError, match="summaries, imports, default"):
        queues.queue(app, "nightly")
