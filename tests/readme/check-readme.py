#!/usr/bin/env python3
# check-readme.py README BUILDDIR INTROSPECTION: runs the README's
# snippets as written, in a fresh shell, as TAP.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Everything comes from README itself, so that an edit that breaks a
# snippet fails here.  The snippets are run in an empty temporary folder
# that stands for the clone: its `build` is a link to BUILDDIR, and the
# environment is a fresh login's (PATH, HOME, the umask of the test run;
# nothing of meson's or workpool's).
#
#  - A ```c or ```python block is saved under the file name the README
#    gives it (the first `NAME.c` or `NAME.py` in the prose right before
#    it, else in the prose and blocks around it).
#  - Every ```sh block is run with `bash -e`, in order, but for those
#    this test cannot or must not run, each reported as a skip with why:
#    apt-get (root and the network), `meson setup` and `meson test` (a
#    build of its own, or the suite this test is part of).  The packages
#    an apt-get line installs must be known to apt, where it has lists.
#  - Every inline `meson devenv -C build …` command is run too (the
#    Python example's), and every inline `workpool help`, `workpool list`
#    or `workpool call PLUGIN FUNCTION …` command with no placeholder in
#    capitals, under `meson devenv -C build -w .`.
#
# What each prints is checked where the README says it (`2 + 3 = 5`,
# `('Ada',)`).  The Python snippet is skipped, saying why, when
# /usr/bin/python3 has no python3-gi, or when INTROSPECTION is "false"
# (a build without Workpool-1.typelib).

import os
import re
import shutil
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
FILE_NAME = re.compile(r"\b([\w-]+\.(?:c|py))\b")
SKIPPED = [
    (re.compile(r"^\s*(sudo\s+)?apt-get\b|&&\s*apt-get\b", re.M), "needs root and the network"),
    (re.compile(r"^\s*meson (setup|test)\b", re.M), "a build or test run of its own"),
    (re.compile(r"--launcher '(srun|ssh) ", re.M),
     "needs a Slurm cluster or an SSH host: tests/remote/readme-launchers.py runs it"),
]
PYTHON = "/usr/bin/python3"

tests = []


def report(ok, description, diagnostic=None, skip=None):
    tests.append(ok)
    line = "%s %d - %s" % ("ok" if ok else "not ok", len(tests), description)
    if skip:
        line += " # SKIP " + skip
    print(line, flush=True)
    if not ok and diagnostic:
        for text in diagnostic.splitlines():
            print("# " + text)


def fresh_env(home):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home,
           "LANG": "C.UTF-8", "TMPDIR": os.environ.get("TMPDIR", "/tmp")}
    return env


def run(command, cwd, env, description, expect=None):
    done = subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    diagnostic = "$ %s\nexit %d\nstdout:\n%s\nstderr:\n%s" % (
        command, done.returncode, done.stdout, done.stderr)
    ok = done.returncode == 0 and (expect is None or expect in done.stdout)
    report(ok, description, diagnostic)
    return done


def check_packages(body):
    """Every package an apt-get install line names is one apt knows."""
    for line in re.findall(r"apt-get install ([^&\n]*)", body):
        names = [word for word in line.split() if not word.startswith("-")]
        known = shutil.which("apt-cache") and subprocess.run(
            ["apt-cache", "show", "--no-all-versions", "libglib2.0-dev"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        for name in names:
            if not known:
                report(True, "apt knows the package " + name,
                       skip="apt has no package lists here")
                continue
            done = subprocess.run(["apt-cache", "show", "--no-all-versions", name],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  universal_newlines=True)
            report(done.returncode == 0, "apt knows the package " + name, done.stderr)


def main():
    readme_path, builddir, introspection = sys.argv[1:]
    with open(readme_path, encoding="utf-8") as readme_file:
        readme = readme_file.read()

    work = tempfile.mkdtemp(prefix="workpool-readme-")
    try:
        os.symlink(os.path.abspath(builddir), os.path.join(work, "build"))
        env = fresh_env(work)
        blocks = list(FENCE.finditer(readme))

        # Sources, saved under their names.
        sources = {}
        for i, block in enumerate(blocks):
            lang, body = block.group(1), block.group(2)
            if lang not in ("c", "python"):
                continue
            # The prose and block on each side of it.
            start = blocks[i - 1].start() if i > 0 else 0
            end = blocks[i + 1].end() if i + 1 < len(blocks) else len(readme)
            nearby = readme[start:block.start()] + readme[block.end():end]
            # The prose right before it first: a block that follows
            # another block has that one's names nearby too.
            before = readme[blocks[i - 1].end() if i > 0 else 0:block.start()]
            names = [n for n in FILE_NAME.findall(before) + FILE_NAME.findall(nearby)
                     if n.endswith(".c" if lang == "c" else ".py")]
            report(bool(names), "the %s block at offset %d is given a file name"
                   % (lang, block.start()))
            if names:
                with open(os.path.join(work, names[0]), "w", encoding="utf-8") as source:
                    source.write(body)
                sources[names[0]] = lang

        python_reason = None
        if introspection != "true":
            python_reason = "this build has no introspection (-Dintrospection)"
        elif not os.path.exists(PYTHON) or subprocess.run(
                [PYTHON, "-c", "import gi"], stderr=subprocess.DEVNULL).returncode != 0:
            python_reason = "%s has no python3-gi (apt-get install python3-gi)" % PYTHON

        # Shell blocks, in order: the C example, the plugin, the descriptors.
        expected = {"example": "2 + 3 = 5\n", "hello greet": "('Ada',)\n",
                    "upper-demo": "HELLO\n"}
        for block in blocks:
            if block.group(1) != "sh":
                continue
            body = block.group(2)
            first = body.strip().splitlines()[0]
            reason = next((why for pattern, why in SKIPPED if pattern.search(body)), None)
            if reason:
                report(True, "sh: " + first, skip=reason)
                check_packages(body)
                continue
            expect = next((out for key, out in expected.items() if key in body), None)
            run(body, work, env, "sh: " + first, expect)

        # Inline commands.
        for match in INLINE.finditer(readme):
            command = match.group(1)
            if command.startswith("meson devenv -C build "):
                expect = "2 + 3 = 5\n" if "python3" in command else None
                if "python3" in command and python_reason:
                    report(True, "inline: " + command, skip=python_reason)
                    continue
                run(command, work, env, "inline: " + command, expect)
            elif re.match(r"workpool (help|list|call \S+ \S+)\b", command) \
                    and not re.search(r"\b[A-Z]{2,}\b", command):
                run("meson devenv -C build -w . " + command, work, env,
                    "inline: " + command)

        report("example.c" in sources and "hello.c" in sources and "example.py" in sources,
               "the C example, the plugin and the Python example were found",
               "found: %s" % sorted(sources))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("1..%d" % len(tests))


if __name__ == "__main__":
    main()
