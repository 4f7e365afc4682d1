"""Figures the docs quote, written by the script that measures them (docs/checks.md).

`--markdown` writes the figure with a first line naming its script and date; without it
(as .ci/run runs) the script compares what it measured with the committed figure below that
line, so a figure cannot go stale unnoticed.
"""

import datetime
import difflib
import os
import sys


def write_or_check(figure, body, script, write):
    """Writes `body` to `figure` (write=True) or checks the committed one; True when fine."""
    tag = os.path.basename(script).removesuffix(".sh")
    if write:
        os.makedirs(os.path.dirname(figure), exist_ok=True)
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with open(figure + ".tmp", "w") as w:
            w.write(f"Written by `{script} --markdown` on {when}; do not edit: "
                    "`.ci/run` fails when the script prints anything else below this line.\n\n"
                    + body)
        os.replace(figure + ".tmp", figure)
        print(f"{tag}: wrote {figure}")
        return True
    try:
        committed = open(figure).read().split("\n", 1)[1].lstrip("\n")
    except (OSError, IndexError):
        committed = None
    if committed == body:
        print(f"{tag}: {figure} matches this run")
        return True
    if committed is not None:
        sys.stdout.writelines(difflib.unified_diff(
            committed.splitlines(True), body.splitlines(True), figure + " (committed)",
            "this run"))
    print(f"{tag}: {figure} is {'stale' if committed is not None else 'missing'}: run "
          f"{script} --markdown, read the diff, commit it")
    return False
