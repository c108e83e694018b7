#!/usr/bin/env python3
"""DuckDB side of the pipeline benchmark (bench/pipeline.sh).

  pipeline_duckdb.py run DUCKDB_FILE
      Runs bench/pipeline_duckdb.sql against the bronze tables in DUCKDB_FILE (as written by
      pipeline_data.py) and prints `duckdb_sql_seconds=S` and `duckdb_gold_rows=N`. Nothing
      else happens in the process, so that its wall time and peak memory are the extraction's.

  pipeline_duckdb.py compare --store SQLITE_FILE --duckdb DUCKDB_FILE [--no-diff]
      After both extractions: bronze and gold row counts, outcome / inference case / blocked_by
      counts, token sources, filter results and built-in expectation failures from both systems
      side by side, then (unless --no-diff) every gold_requests column of every row compared,
      and the gold_filter_results rows compared as sets of request × stage × category.
"""

import argparse
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(path):
    import duckdb

    sql = open(os.path.join(HERE, "pipeline_duckdb.sql"), encoding="utf-8").read()
    con = duckdb.connect(path)
    started = time.perf_counter()
    con.execute(sql)
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - started
    rows = con.execute("SELECT COUNT(*) FROM gold_requests").fetchone()[0]
    con.close()
    print("duckdb_sql_seconds=%.3f" % elapsed)
    print("duckdb_gold_rows=%d" % rows)


def side_by_side(title, keys, left, right):
    print(title)
    width = max([len(" / ".join("-" if v is None else str(v) for v in k)) for k in keys] + [10])
    print("  %-*s %12s %12s %s" % (width, "", "tollgate", "duckdb", ""))
    same = True
    for k in keys:
        a, b = left.get(k, 0), right.get(k, 0)
        same = same and a == b
        print("  %-*s %12s %12s %s" % (width, " / ".join("-" if v is None else str(v) for v in k), "{:,}".format(a), "{:,}".format(b),
                                       "" if a == b else "DIFFERENT"))
    return same


def compare(store, duck, diff):
    import duckdb

    s = sqlite3.connect("file:%s?mode=ro" % store, uri=True)
    d = duckdb.connect(duck, read_only=True)
    ok = True

    def both(sql):
        left = {tuple(r[:-1]): r[-1] for r in s.execute(sql).fetchall()}
        right = {tuple(r[:-1]): r[-1] for r in d.execute(sql).fetchall()}
        return left, right, sorted(set(left) | set(right), key=lambda k: (-(left.get(k, 0) + right.get(k, 0)), str(k)))

    bronze_s = s.execute("SELECT COUNT(*) FROM inference_table").fetchone()[0]
    bronze_d = d.execute("SELECT COUNT(*) FROM inference_table").fetchone()[0]
    gold_s = s.execute("SELECT COUNT(*) FROM gold_requests").fetchone()[0]
    gold_d = d.execute("SELECT COUNT(*) FROM gold_requests").fetchone()[0]
    print("bronze rows: tollgate store %s, duckdb %s" % ("{:,}".format(bronze_s), "{:,}".format(bronze_d)))
    rows_ok = gold_s == bronze_s and gold_d == bronze_d
    print("gold_requests rows = bronze rows: tollgate %s, duckdb %s  %s" % ("{:,}".format(gold_s), "{:,}".format(gold_d), "OK" if rows_ok else "WRONG"))
    ok = ok and rows_ok

    left, right, keys = both("SELECT outcome, inference_case, blocked_by, COUNT(*) FROM gold_requests GROUP BY 1, 2, 3")
    print()
    ok = side_by_side("outcome / inference_case / blocked_by", keys, left, right) and ok
    left, right, keys = both("SELECT token_count_source, COUNT(*) FROM gold_requests GROUP BY 1")
    print()
    ok = side_by_side("token_count_source", keys, left, right) and ok
    left, right, keys = both("SELECT stage, filtered, COUNT(*) FROM gold_filter_results GROUP BY 1, 2")
    print()
    ok = side_by_side("gold_filter_results: stage / filtered", keys, left, right) and ok

    tollgate_expectations = {}
    for (details,) in s.execute("SELECT details FROM pipeline_events WHERE event_type = 'flow_progress'"):
        import json

        for e in json.loads(details).get("flow_progress", {}).get("data_quality", {}).get("expectations", []):
            tollgate_expectations[(e["name"],)] = tollgate_expectations.get((e["name"],), 0) + e["failed_records"]
    duck_expectations = {(r[0],): r[1] for r in d.execute("SELECT name, failed FROM expectation_results").fetchall()}
    print()
    ok = side_by_side("built-in expectations: failed rows", sorted(set(tollgate_expectations) | set(duck_expectations)),
                      tollgate_expectations, duck_expectations) and ok

    if diff:
        print()
        ok = diff_rows(s, d) and ok
    s.close()
    d.close()
    print()
    print("sanity: %s" % ("both systems agree" if ok else "the systems DISAGREE (see above)"))
    return ok


def diff_rows(s, d):
    """Every gold_requests value and every gold_filter_results row, compared in request_id order."""
    cols = [r[1] for r in s.execute("PRAGMA table_info(gold_requests)")]
    select = "SELECT %s FROM gold_requests ORDER BY request_id" % ", ".join(cols)
    left = s.execute(select)
    right = d.execute(select)
    differing = {}
    examples = {}
    rows = 0
    missing = 0
    while True:
        a_batch = left.fetchmany(20000)
        b_batch = right.fetchmany(20000)
        if not a_batch and not b_batch:
            break
        if len(a_batch) != len(b_batch):
            missing += abs(len(a_batch) - len(b_batch))
        for a, b in zip(a_batch, b_batch):
            rows += 1
            if a == b:
                continue
            for i, c in enumerate(cols):
                x, y = a[i], b[i]
                if isinstance(y, bool):
                    y = int(y)
                if x != y:
                    differing[c] = differing.get(c, 0) + 1
                    examples.setdefault(c, (a[0], x, y))
    fl = set(s.execute("SELECT request_id, stage, category, filtered, severity, detected FROM gold_filter_results").fetchall())
    fr = set(d.execute("SELECT request_id, stage, category, filtered, severity, detected FROM gold_filter_results").fetchall())
    filters_same = fl == fr
    print("row by row: %s gold_requests rows x %d columns compared, %s differing value(s)%s; gold_filter_results %s"
          % ("{:,}".format(rows), len(cols), "{:,}".format(sum(differing.values())),
             (", %d row(s) missing on one side" % missing) if missing else "",
             "identical (%s rows)" % "{:,}".format(len(fl)) if filters_same
             else "differ (%d only in tollgate, %d only in duckdb)" % (len(fl - fr), len(fr - fl))))
    for c in cols:
        if c in differing:
            k, x, y = examples[c]
            print("  %s: %d row(s), e.g. %s: tollgate %r, duckdb %r" % (c, differing[c], k, str(x)[:120], str(y)[:120]))
    return not differing and not missing and filters_same


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("duckdb")
    p_cmp = sub.add_parser("compare")
    p_cmp.add_argument("--store", required=True)
    p_cmp.add_argument("--duckdb", required=True)
    p_cmp.add_argument("--no-diff", action="store_true")
    args = parser.parse_args()
    if args.command == "run":
        run(args.duckdb)
    else:
        sys.exit(0 if compare(args.store, args.duckdb, not args.no_diff) else 1)


if __name__ == "__main__":
    main()
