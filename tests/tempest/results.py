"""Tempest's results, one line per test, and the verdict against a list of known failures.

usage: results.py RESULTS.subunit LISTED [--known FILE]

RESULTS.subunit is ``stestr last --subunit``; LISTED the output of ``tempest run
--list-tests`` (every test selected).  Prints ``fail <test>: <last line of the
error>``, ``skip <test>: <reason>`` and ``never <test>: <why its class setup
failed>`` for each test that did not pass (``setUpClass (<class>)`` and
``tearDownClass (<class>)`` lines are the class fixtures), then the counts.

``--known``: a file of test or fixture ids (``#`` starts a comment), the
failures expected today.  The exit status is then 1 only for a failure it does
not list, or a listed one that passed; without it, 1 when anything failed.
"""
import argparse
import re
import sys

import subunit
import testtools

IDS = re.compile(r"\[[^\]]*\]$")   # Tempest's "[id-…,smoke]" suffix
FIXTURE = re.compile(r"^(setUpClass|tearDownClass) \((.+)\)$")


def plain(test_id):
    return IDS.sub("", test_id)


def class_of(test_id):
    fixture = FIXTURE.match(test_id)
    return fixture.group(2) if fixture else test_id.rsplit(".", 1)[0]


def one_line(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def read(path):
    """``{test id: (status, detail)}`` for every finished test and class fixture."""
    results = {}

    def on_test(test):
        status = {"xfail": "success", "uxsuccess": "fail"}.get(test["status"], test["status"])
        if status not in ("success", "fail", "skip"):
            return
        details = test["details"]
        text = next((details[name].as_text() for name in ("reason", "traceback")
                     if name in details), "")
        results[plain(test["id"])] = (status, one_line(text))

    with open(path, "rb") as stream:
        case = subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout")
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        case.run(result)
        result.stopTestRun()
    return results


def read_ids(path):
    with open(path, encoding="utf-8") as handle:
        return {plain(line.split("#", 1)[0].strip()) for line in handle} - {""}


def outcomes(results, listed):
    """Every listed test's ``(status, detail)``; a test that never reported takes its
    class setup's: ``skip`` when the class was skipped, ``never`` when its setup failed."""
    setups = {class_of(test_id): result for test_id, result in results.items()
              if test_id.startswith("setUpClass ")}
    every = {}
    for test_id in sorted(listed):
        if test_id in results:
            every[test_id] = results[test_id]
        else:
            status, detail = setups.get(class_of(test_id), ("fail", "no result"))
            every[test_id] = ("skip" if status == "skip" else "never", detail)
    return every


def verdict(results, known, name):
    """The lines about ``known`` and whether the run passes against it."""
    failed = {test_id for test_id, (status, _) in results.items() if status == "fail"}
    ran = {class_of(test_id) for test_id in results if not FIXTURE.match(test_id)}
    new = sorted(failed - known)
    fixed = sorted(test_id for test_id in known - failed
                   if results.get(test_id, ("",))[0] == "success"
                   or (FIXTURE.match(test_id) and class_of(test_id) in ran))
    lines = [f"NEW FAILURE {test_id} (not in {name})" for test_id in new]
    lines += [f"NOW PASSES {test_id}: take it out of {name}" for test_id in fixed]
    lines.append(f"{len(failed & known)} failures known, {len(new)} new, "
                 f"{len(fixed)} known ones now pass")
    return lines, not new and not fixed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("subunit")
    parser.add_argument("listed")
    parser.add_argument("--known")
    args = parser.parse_args(argv)
    results = read(args.subunit)
    every = outcomes(results, read_ids(args.listed))
    fixtures = {test_id: result for test_id, result in results.items()
                if FIXTURE.match(test_id) and result[0] == "fail"}
    for test_id, (status, detail) in sorted({**every, **fixtures}.items()):
        if status != "success":
            print(f"{status} {test_id}: {detail}")
    count = {status: sum(1 for s, _ in every.values() if s == status)
             for status in ("success", "fail", "never", "skip")}
    print(f"{len(every)} tests: {count['success']} passed, {count['fail']} failed, "
          f"{count['never']} never ran (class setup failed), {count['skip']} skipped; "
          f"{len(fixtures)} class fixtures failed")
    if not args.known:
        # The plain closing line: every test that neither passed nor was skipped failed.
        print(f"{count['success']} passed, {count['fail'] + count['never']} failed, "
              f"{count['skip']} skipped")
        return 1 if fixtures or count["fail"] or count["never"] else 0
    lines, passes = verdict(results, read_ids(args.known), args.known)
    print("\n".join(lines))
    return 0 if passes else 1


if __name__ == "__main__":
    sys.exit(main())
