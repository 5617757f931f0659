from __future__ import annotations

import time


def test_t(page, server, examples):
    t0=time.perf_counter()
    page.on("request", lambda r: print(round(time.perf_counter()-t0,3), "REQ", r.method, r.url))
    page.on("response", lambda r: print(round(time.perf_counter()-t0,3), "RESP", r.status, r.url))
    page.goto("/interview?i=leave.yml")
    print("-- click")
    page.get_by_role("button", name="Harvard").click(); page.wait_for_url("http://www.harvard.edu/")
    print(round(time.perf_counter()-t0,3), "done")
