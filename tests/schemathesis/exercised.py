"""Counts the operations a schemathesis run exercised and fails when that is
fewer than the OpenAPI document lists.

An operation counts as exercised when at least one request to it got a
response other than 401: a 401 stopped at authentication, so the operation's
own code never ran. Requests for methods the document does not list (the
unsupported_method probes) do not count. It reads the run's NDJSON report,
which records every request and response. With --selected (the caller passed
filters to `st run`), the run is compared with the number of operations
schemathesis selected instead of the whole document.

Prints one summary line first (the caller's table repeats it), then what is
missing, if anything; exits 1 when operations are missing.

Usage: exercised.py [--selected] OPENAPI_JSON EVENTS_NDJSON LABEL
"""

import json
import sys

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def main():
    args = sys.argv[1:]
    selected_only = args[:1] == ["--selected"]
    if selected_only:
        args = args[1:]
    openapi, events, label = args
    with open(openapi) as f:
        document = json.load(f)
    listed = {
        f"{method.upper()} {path}"
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in METHODS
    }

    exercised = set()
    succeeded = set()
    selected = None
    try:
        with open(events) as f:
            for line in f:
                event = json.loads(line)
                if "LoadingFinished" in event:
                    selected = event["LoadingFinished"]["statistic"]["operations"]["selected"]
                finished = event.get("ScenarioFinished")
                if finished is None:
                    continue
                recorder = finished.get("recorder") or {}
                interactions = recorder.get("interactions") or {}
                for case_id, case in (recorder.get("cases") or {}).items():
                    value = case["value"]
                    response = (interactions.get(case_id) or {}).get("response")
                    if response is None:
                        continue
                    operation = f"{value['method'].upper()} {value['path']}"
                    if operation not in listed or response["status_code"] == 401:
                        continue
                    exercised.add(operation)
                    if 200 <= response["status_code"] < 300:
                        succeeded.add(operation)
    except FileNotFoundError:
        print(f"schemathesis [{label}]: no report at {events}: schemathesis did not run")
        return 1

    # With filters, the run is held to what schemathesis selected.
    expected = len(listed)
    if selected_only:
        expected = selected if selected is not None else len(listed)
    scope = "" if expected == len(listed) else f" (of {expected} selected)"
    print(
        f"schemathesis [{label}]: {len(exercised)}/{len(listed)} operations exercised{scope}, "
        f"{len(succeeded)} answered 2xx"
    )
    if len(exercised) >= expected:
        return 0
    print(f"schemathesis [{label}]: FAILED: fewer operations exercised than {'selected' if scope else 'listed'}; not exercised (no answer, or only 401):")
    for operation in sorted(listed - exercised):
        print(f"    {operation}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
