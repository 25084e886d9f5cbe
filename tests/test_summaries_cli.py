"""``flask summary``: operators and scripts get the same files from the command line."""

from __future__ import annotations

import sqlalchemy as sa

from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.summaries.models import Summary, SummaryStatus
from tests.summaries_support import (
    csv_sections,
    kill_group,
    pdf_text,
    sheet_rows,
    start_worker,
    wait_until_serving,
    workbook,
)


def story(world):
    fire = world.area("07", "Пожарная безопасность")
    world.area("12", "Транспорт")
    world.requirement(fire, title="Огнетушители")
    world.user("manager", role=GlobalRole.MANAGER)


def test_inline_writes_the_all_areas_workbook_without_a_worker(runner, world, tmp_path):
    story(world)
    out = tmp_path / "all.xlsx"
    result = runner.invoke(args=["summary", "--format", "xlsx", "--out", str(out), "--inline",
                                 "--language", "en"])
    assert result.exit_code == 0, result.output
    assert "1 requirements" in result.output
    assert [r[0] for r in sheet_rows(workbook(out.read_bytes())["Areas"])] == [
        "07", "12", "Total"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name != "test.db" and
            not p.name.startswith("test.db")] == ["all.xlsx"]  # no temporary file left


def test_inline_for_one_area_in_each_format(runner, world, tmp_path):
    story(world)
    for fmt in ("csv", "pdf"):
        out = tmp_path / f"fire.{fmt}"
        result = runner.invoke(args=["summary", "--area", "07", "--format", fmt, "--out",
                                     str(out), "--inline", "--language", "ru"])
        assert result.exit_code == 0, result.output
    assert "Огнетушители" in str(csv_sections((tmp_path / "fire.csv").read_bytes()))
    assert "Пожарная безопасность" in pdf_text((tmp_path / "fire.pdf").read_bytes())


def test_through_a_worker_waits_for_it_and_writes_the_file(app, runner, world, tmp_path):
    story(world)
    worker = start_worker(app, "summaries")
    try:
        wait_until_serving(app, worker)
        out = tmp_path / "fire.xlsx"
        result = runner.invoke(args=["summary", "--area", "07", "--format", "xlsx", "--out",
                                     str(out), "--wait", "120", "--language", "en"])
    finally:
        kill_group(worker)
    assert result.exit_code == 0, result.output
    assert "done 100%" in result.output
    assert sheet_rows(workbook(out.read_bytes())["Pending"])[0][2] == "Огнетушители"
    summary = db.session.scalar(sa.select(Summary))
    assert (summary.origin, summary.status, summary.requested_by_id) == (
        "cli", SummaryStatus.DONE, None)


def test_without_a_worker_it_says_what_to_do(runner, world, tmp_path):
    story(world)
    result = runner.invoke(args=["summary", "--format", "pdf", "--out",
                                 str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "No worker serves the summaries queue" in result.output
    assert "--inline" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_bad_arguments_name_the_problem(runner, world, tmp_path):
    story(world)
    result = runner.invoke(args=["summary", "--area", "99", "--format", "xlsx", "--out",
                                 str(tmp_path / "x.xlsx"), "--inline"])
    assert result.exit_code == 2 and "there is no area with code '99'" in result.output
    result = runner.invoke(args=["summary", "--format", "xlsx", "--out",
                                 str(tmp_path / "nowhere" / "x.xlsx"), "--inline"])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(args=["summary", "--format", "docx", "--out",
                                 str(tmp_path / "x.docx"), "--inline"])
    assert result.exit_code == 2 and "'docx' is not one of" in result.output
