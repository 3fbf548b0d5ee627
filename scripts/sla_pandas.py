"""Computes the same first-response deadlines with pandas' CustomBusinessHour and compares.

Input lines: local-start <TAB> business-hours <TAB> local-due (HelpdeskSLA's answer).
"""
import sys
import time

import pandas as pd

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
starts = [pd.Timestamp(r[0]) for r in rows]
hours = [int(r[1]) for r in rows]
expected = [pd.Timestamp(r[2]) for r in rows]
offsets = {h: pd.offsets.CustomBusinessHour(n=h, start="09:00", end="17:00", weekmask="Mon Tue Wed Thu Fri") for h in set(hours)}

begin = time.perf_counter()
results = [start + offsets[h] for start, h in zip(starts, hours)]
elapsed = time.perf_counter() - begin

next_day = pd.offsets.CustomBusinessDay(n=1, weekmask="Mon Tue Wed Thu Fri")


def same_business_instant(ours, theirs):
    """A deadline that lands exactly on a closing time: HelpdeskSLA names the close (17:00),
    pandas the next opening (09:00). No business time lies between them."""
    return ours.time() == pd.Timestamp("17:00").time() and theirs == ours.normalize() + next_day + pd.Timedelta(hours=9)


exact = sum(1 for e, r in zip(expected, results) if e == r)
mismatches = [(s, h, e, r) for s, h, e, r in zip(starts, hours, expected, results) if e != r and not same_business_instant(e, r)]
print(f"pandas_version {pd.__version__}")
print(f"due_per_second {int(len(rows) / elapsed)}")
print(f"compared {len(rows)}")
print(f"exact {exact}")
print(f"agree {len(rows) - len(mismatches)}")
for s, h, e, r in mismatches[:5]:
    print(f"mismatch_examples start={s}|hours={h}|helpdesk={e}|pandas={r}")
