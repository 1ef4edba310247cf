#!/usr/bin/env python3
# readme-launchers.py README BUILDDIR ENGINE: runs, as TAP, the README's
# command lines that start workers through ENGINE's launcher (slurm: those
# with `--launcher 'srun …'`, ssh: `--launcher 'ssh …'`), which
# tests/readme/check-readme.py skips.  Run by with-engine.sh, which starts
# the engine and names its folder in $WORKPOOL_TEST_ENGINE_DIR.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each line runs as written, with bash, in an empty temporary folder that
# stands for the clone: `data/photos` is a copy of the project's, and the
# built `workpool`, its worker and plugins are found as `meson devenv`
# finds them.  The one word a reader must replace, HOST in the ssh line,
# becomes the private sshd's host (its ssh_config and alias).  A
# thumbnail line must thumbnail some images and fail none; `demo add
# '(2, 3)'` must print (5,).

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```sh\n(.*?)^```$", re.M | re.S)
PROGRAMS = {"slurm": "srun", "ssh": "ssh"}

tests = []


def report(ok, description, diagnostic=""):
    tests.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(tests), description), flush=True)
    if not ok:
        for line in diagnostic.splitlines():
            print("# " + line)


def check(line, result):
    output = result.stdout + result.stderr
    if result.returncode != 0:
        return False, "exit status %d\n%s" % (result.returncode, output)
    if "demo add '(2, 3)'" in line:
        return result.stdout == "(5,)\n", output
    if "workpool thumbnail" in line:
        summary = re.search(r"(\d+) images, (\d+) thumbnails written, \d+ skipped, (\d+) failed",
                            result.stdout)
        if summary is None or int(summary.group(1)) == 0 or int(summary.group(3)) != 0 \
                or int(summary.group(2)) == 0:
            return False, output
        return True, output
    return True, output


def main():
    readme_path, builddir, engine = sys.argv[1:]
    program = PROGRAMS[engine]
    with open(readme_path, encoding="utf-8") as readme_file:
        readme = readme_file.read()
    lines = [line for block in FENCE.findall(readme) for line in block.splitlines()
             if "--launcher '%s " % program in line]
    report(bool(lines), "the README has a command through %s" % program)

    source_root = os.path.dirname(os.path.abspath(readme_path))
    builddir = os.path.abspath(builddir)
    env = dict(os.environ)
    env["PATH"] = os.path.join(builddir, "host", "cli") + os.pathsep + env["PATH"]
    env["WORKPOOL_WORKER"] = os.path.join(builddir, "host", "worker", "workpool-worker")
    env["WORKPOOL_PLUGIN_DIR"] = os.path.join(builddir, "plugins")
    host = "-F %s workpool-test" % shlex.quote(
        os.path.join(os.environ.get("WORKPOOL_TEST_ENGINE_DIR", ""), "ssh_config"))

    for line in lines:
        work = tempfile.mkdtemp(prefix="workpool-readme-%s-" % engine)
        try:
            shutil.copytree(os.path.join(source_root, "data", "photos"),
                            os.path.join(work, "data", "photos"))
            command = line.replace("HOST", host) if engine == "ssh" else line
            result = subprocess.run(["bash", "-e", "-c", command], cwd=work, env=env,
                                    capture_output=True, text=True, timeout=120)
            ok, diagnostic = check(line, result)
            report(ok, "as written: " + line, diagnostic)
            print("# " + result.stdout.strip().replace("\n", "\n# "))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    print("1..%d" % len(tests))


if __name__ == "__main__":
    main()
