"""Benchmark of configuration pushes (not a test: run it by hand, on MariaDB). Targets (the
configuration issue): pushing one template to 100,000 devices records the task and all its
rows in under 3 s; the executed task page of that push opens in under 150 ms (first, middle and
last page of its device rows); the provisioning file with its merged configuration costs no
more than 2x today's file (same run).

    .venv/bin/python bench/bench_configs.py                 # 100,000 devices
    .venv/bin/python bench/bench_configs.py --devices 20000 --reseed

What it does, in one run:
1. creates the MariaDB database (default ``ymcs_bench_configs``), migrates and seeds it as
   bench/bench_acs.py does (one channel, one device-management enterprise, N devices) unless it
   already holds exactly N devices, and adds a channel admin account;
2. times the file a phone fetches, GET /provisioning/<mac>.cfg with the enterprise's
   credentials, in-process through the WSGI app (no HTTP): without any template ("today's
   file"), then with a channel template and an enterprise template of 20 settings each;
3. times three pushes of the enterprise template to all N devices (app.configs.pushes, the
   code behind "Push"; from the second on, each also supersedes the previous push's N rows),
   against the hand-written baseline of one ``INSERT INTO device_command ... SELECT`` of N rows
   (the least any push with one command per device writes);
4. times GET /executedtask/show/<id> for the first, middle and last page of the last push's
   rows, logged in as the channel admin, in-process; against the hand-written SQL of one page;
5. prints medians against the targets and writes bench/results/configs.json.
"""

import argparse
import base64
import json
import os
import re
import secrets
import statistics
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, REPO)
sys.path.insert(0, BENCH_DIR)

from bench_acs import prepare_database  # noqa: E402

SECRET = secrets.token_hex(32)
RESULTS = os.path.join(BENCH_DIR, "results")
ADMIN_EMAIL = "configs-bench@bench.example"
ADMIN_PASSWORD = "Bench-pass-2026"
TARGETS = {"push_s": 3.0, "page_ms": 150.0, "provisioning_ratio": 2.0}
SETTINGS = "\n".join(f"features.bench_{i} = value {i} {{{{mac}}}}" for i in range(20))


def median_ms(func, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def ensure_admin(app, channel_id):
    from app.accounts import roles
    from app.extensions import db
    from app.models import Account, AccountKind

    with app.app_context():
        sm = app.appbuilder.sm
        sm.sync_roles()
        user = db.session.query(Account).filter_by(username=ADMIN_EMAIL).first()
        if user is None:
            user = sm.add_user(username=ADMIN_EMAIL, first_name="bench", last_name="configs",
                               email=ADMIN_EMAIL, role=sm.find_role(roles.CHANNEL_ADMIN),
                               password=ADMIN_PASSWORD)
        user.kind, user.channel_id = AccountKind.channel_master, channel_id
        db.session.commit()


def logged_in_client(app):
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login/", data={"username": ADMIN_EMAIL,
                                            "password": ADMIN_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def provisioning(app, enterprise_id, password, mac, n):
    token = base64.b64encode(f"ent{enterprise_id}:{password}".encode()).decode()
    client = app.test_client()
    headers = {"Authorization": f"Basic {token}"}

    def fetch():
        response = client.get(f"/provisioning/{mac}.cfg", headers=headers)
        assert response.status_code == 200, response.status_code
        return response

    fetch()  # warm the templates' parse cache, the connection pool, the code
    return median_ms(fetch, n), fetch().get_data(as_text=True).count("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=os.environ.get(
        "YMCS_TEST_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306"))
    ap.add_argument("--database", default="ymcs_bench_configs")
    ap.add_argument("--devices", type=int, default=100_000)
    ap.add_argument("--reseed", action="store_true")
    ap.add_argument("--pushes", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    url, enterprise_id, password = prepare_database(args.server, args.database, args.devices,
                                                    args.reseed)
    from sqlalchemy import delete, select, text

    from app import create_app
    from app.configs import pushes
    from app.configs.tables import ConfigPush, ConfigPushDevice, ConfigTemplate
    from app.extensions import db
    from app.models import Device, DeviceCommand, Enterprise

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                      "SCHEDULER_MODE": "off", "WTF_CSRF_ENABLED": True})
    with app.app_context():
        session = db.session
        # A clean slate of this benchmark's own rows (a rerun keeps the seeded devices).
        session.execute(delete(ConfigPushDevice))
        session.execute(delete(ConfigPush))
        session.execute(delete(ConfigTemplate))
        session.execute(delete(DeviceCommand))
        session.commit()
        enterprise = session.get(Enterprise, enterprise_id)
        channel_id = enterprise.channel_id
        mac = session.execute(select(Device.mac).where(Device.enterprise_id == enterprise_id)
                              .order_by(Device.id).limit(1)).scalar()
        session.remove()
    ensure_admin(app, channel_id)
    results = {"devices": args.devices, "loadavg_start": os.getloadavg()[0]}

    # 2. the provisioning file, without and with templates, in alternating rounds (a load
    #    change on the shared machine then touches both alike)
    def set_templates(present):
        with app.app_context():
            session = db.session
            session.execute(delete(ConfigTemplate))
            if present:
                session.add(ConfigTemplate(name="bench channel", channel_id=channel_id,
                                           body="#!version:1.0.0.1\n" + SETTINGS + "\n"))
                session.add(ConfigTemplate(
                    name="bench enterprise", enterprise_id=enterprise_id,
                    body="#!version:1.0.0.1\n" + SETTINGS.replace("value", "ent")
                    + "\nfeatures.extra = 1\n"))
            session.commit()
            session.remove()

    plain, merged = [], []
    for _ in range(args.rounds):
        set_templates(False)
        ms, plain_lines = provisioning(app, enterprise_id, password, mac, args.requests)
        plain.append(ms)
        set_templates(True)
        ms, merged_lines = provisioning(app, enterprise_id, password, mac, args.requests)
        merged.append(ms)
    results["provisioning_plain_ms"] = statistics.median(plain)
    results["provisioning_merged_ms"] = statistics.median(merged)
    results["provisioning_ratio"] = statistics.median(
        [m / p for m, p in zip(merged, plain, strict=True)])
    with app.app_context():
        template_id = db.session.execute(select(ConfigTemplate.id).where(
            ConfigTemplate.enterprise_id == enterprise_id)).scalar()
        db.session.remove()
    print(f"provisioning file: {plain_lines} lines {results['provisioning_plain_ms']:.2f} ms; "
          f"with templates {merged_lines} lines {results['provisioning_merged_ms']:.2f} ms "
          f"(x{results['provisioning_ratio']:.2f}, target <= {TARGETS['provisioning_ratio']})")

    # 3. pushes against the hand-written INSERT ... SELECT
    push_times, push_ids = [], []
    with app.app_context():
        session = db.session
        for _ in range(args.pushes):
            template = session.get(ConfigTemplate, template_id)
            t0 = time.perf_counter()
            push = pushes.new_push(template, by=ADMIN_EMAIL)
            pushes.push_now(session, push)
            session.commit()
            push_times.append(time.perf_counter() - t0)
            push_ids.append(push.id)
            print(f"push {push.id}: {push.devices:,} devices in {push_times[-1]:.2f} s")
        # after the pushes, so that neither pays for the other's purge of deleted rows
        t0 = time.perf_counter()
        session.execute(text(
            "INSERT INTO device_command (device_id, kind, arguments, status, created_on, "
            "updated_on, attempts) SELECT id, 'download', '{}', 'done', NOW(), NOW(), 0 "
            "FROM device WHERE enterprise_id = :e"), {"e": enterprise_id})
        session.commit()
        results["baseline_insert_s"] = time.perf_counter() - t0
        session.remove()
    results["push_first_s"] = push_times[0]
    results["push_superseding_s"] = statistics.median(push_times[1:]) if len(push_times) > 1 \
        else None
    results["push_ratio_vs_baseline"] = push_times[0] / results["baseline_insert_s"]
    print(f"baseline INSERT ... SELECT of {args.devices:,} commands: "
          f"{results['baseline_insert_s']:.2f} s; "
          f"first push x{results['push_ratio_vs_baseline']:.1f}")

    # 4. the executed task page: first, middle and last page of the last push's rows
    client = logged_in_client(app)
    last = push_ids[-1]
    pages = max(1, -(-args.devices // 50))
    for label, page in (("first", 1), ("middle", pages // 2 or 1), ("last", pages)):
        path = f"/executedtask/show/{last}?page={page}"
        response = client.get(path)
        assert response.status_code == 200 and response.get_data(
            as_text=True).count('data-mac="') >= 1, (path, response.status_code)
        results[f"page_{label}_ms"] = median_ms(lambda p=path: client.get(p), 30)
    with app.app_context():
        sql = text("SELECT id, mac, model, status, fault_code, fault_string, finished_on "
                   "FROM config_push_device WHERE push_id = :p ORDER BY id "
                   "LIMIT 50 OFFSET :o")
        conn = db.engine.connect()
        results["baseline_last_page_sql_ms"] = median_ms(
            lambda: conn.execute(sql, {"p": last, "o": (pages - 1) * 50}).all(), 30)
        conn.close()
    print("executed task page: " + ", ".join(
        f"{k} {results[f'page_{k}_ms']:.1f} ms" for k in ("first", "middle", "last"))
        + f" (target < {TARGETS['page_ms']:.0f} ms); hand-written SQL of the last page "
        f"{results['baseline_last_page_sql_ms']:.1f} ms")

    ok = (results["push_first_s"] < TARGETS["push_s"]
          and (results["push_superseding_s"] or 0) < TARGETS["push_s"]
          and max(results[f"page_{k}_ms"] for k in ("first", "middle", "last"))
          < TARGETS["page_ms"]
          and results["provisioning_ratio"] <= TARGETS["provisioning_ratio"])
    results["targets_met"] = ok
    results["loadavg_end"] = os.getloadavg()[0]
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "configs.json"), "w") as out:
        json.dump(results, out, indent=2)
    print("targets met" if ok else "TARGETS MISSED", json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
