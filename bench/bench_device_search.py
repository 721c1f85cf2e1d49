"""What a device search costs at 1M devices (not a test: run it by hand, after bench_list.py
has seeded ``ymcs_bench``).

    .venv/bin/python bench/bench_device_search.py [--samples 7]

In-process (Flask test client, logged in as the bench channel admin, who sees 859,700
devices), it requests the unfiltered first page and each kind of search in alternating
rounds, and prints each one's median latency and its ratio to the unfiltered page measured
in the same rounds (other load on the machine hits all alike). Read-only.
"""

import argparse
import os
import statistics
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(BENCH_DIR))
sys.path.insert(0, BENCH_DIR)

import seed  # noqa: E402
from bench_list import _CSRF_RE, app_settings  # noqa: E402
from common import loadavg  # noqa: E402

LIST = "/devicemodelview/list/"
# The seed's MACs are 805ec0 + the device's number in six hex digits; its IPs 10.x.y.z.
SEARCHES = {
    "unfiltered": "",
    "whole MAC (equality, unique index)": "80:5E:C0:01:E2:40",
    "MAC part, few matches ('d0000')": "d0000",
    "MAC part with separators ('c0:0d:00')": "c0:0d:00",
    "MAC part, many matches ('ec0')": "ec0",
    "partial IP, few matches ('10.7.33.')": "10.7.33.",
    "partial IP, many matches ('.1')": ".1",
    "model prefix ('SIP-T4')": "SIP-T4",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get(
        "BENCH_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306"))
    parser.add_argument("--database", default="ymcs_bench")
    parser.add_argument("--samples", type=int, default=7, help="rounds")
    args = parser.parse_args()
    from app import create_app
    from app.device_ops import views as device_views

    # The model filter's catalogue (a DISTINCT over the scope, cached a minute) is no part of
    # a search: warmed once below and kept for the run.
    device_views.MODEL_CHOICES_SECONDS = 24 * 3600
    url = f"{args.server}/{args.database}?charset=utf8mb4"
    app = create_app(app_settings(url))
    client = app.test_client()
    token = _CSRF_RE.search(client.get("/login/").get_data(as_text=True)).group(1)
    response = client.post("/login/", data={"username": seed.ADMIN_EMAIL,
                                            "password": seed.ADMIN_PASSWORD,
                                            "csrf_token": token})
    assert response.status_code == 302, "login failed"
    assert client.get(LIST).status_code == 200  # warms the catalogue and the caches
    times = {name: [] for name in SEARCHES}
    rows = {}
    for _ in range(args.samples):
        for name, q in SEARCHES.items():
            # a fresh session per search: the list's "more than 10,000" memory would skip
            # the count after the first round, and a person searches once, not seven times
            with client.session_transaction() as session:
                session.pop("_ymcs_many", None)
            started = time.perf_counter()
            response = client.get(LIST, query_string={"q": q} if q else None)
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.status_code)
            rows[name] = response.get_data(as_text=True).count("/devicemodelview/show/")
    base = statistics.median(times["unfiltered"])
    print(f"load average {loadavg()}; median of {args.samples} alternating rounds")
    print(f"{'search':45} {'median ms':>10} {'ratio':>7} {'rows':>5}")
    for name in SEARCHES:
        median = statistics.median(times[name])
        print(f"{name:45} {median * 1000:10.1f} {median / base:7.1f} {rows[name]:5}")


if __name__ == "__main__":
    main()
