#!/usr/bin/env python3
# check-thumbnailer-options.py THUMBNAILER PAGE: the service's manual page
# documents every option its --help prints, as TAP.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every option of `THUMBNAILER --help` but --help must appear in PAGE (the
# configured data/workpool-thumbnailer.8) twice: in its SYNOPSIS and in
# its OPTIONS section, written as roff writes an option (\-\-name).

import os
import re
import subprocess
import sys

OPTION_LINE = re.compile(r"^\s+(?:-[A-Za-z0-9], )?--(?P<long>[A-Za-z0-9][A-Za-z0-9-]*)")

thumbnailer, page = sys.argv[1:3]
done = subprocess.run([thumbnailer, "--help"], env=dict(os.environ, LC_ALL="C.UTF-8"),
                      capture_output=True, text=True)
if done.returncode != 0:
    print("Bail out! %s --help exited with %d: %s" % (thumbnailer, done.returncode, done.stderr))
    sys.exit(1)
options = [m.group("long") for m in map(OPTION_LINE.match, done.stdout.splitlines())
           if m and m.group("long") not in ("help", "help-all")]
with open(page) as f:
    roff = f.read()
synopsis = roff[roff.index(".SH SYNOPSIS"):roff.index(".SH DESCRIPTION")]
section = roff[roff.index(".SH OPTIONS"):roff.index(".SH FILES")]

print("1..%d" % (2 * len(options)))
n = 0
failed = False
for option in options:
    written = "\\-\\-" + option.replace("-", "\\-")
    for where, text in (("SYNOPSIS", synopsis), ("OPTIONS", section)):
        n += 1
        ok = written in text
        failed |= not ok
        print("%s %d - --%s is in the %s" % ("ok" if ok else "not ok", n, option, where))
sys.exit(1 if failed else 0)
