#!/usr/bin/env python3
# check-options.py WORKPOOL PAGE: the manual page documents every option
# the command's --help prints, as TAP.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The command is the source of truth: `WORKPOOL --help` gives the global
# options and the list of commands, `WORKPOOL COMMAND --help` each
# command's options.  PAGE is the roff source (the configured
# data/workpool.1).  Every command must have its subsection
# `.SS "workpool COMMAND"`; every option of a command must appear in that
# subsection (the global ones in OPTIONS), written as roff writes an
# option: \-\-name, or \-x for a short one.  Every option other than
# --help must also appear in the command's SYNOPSIS entry.  So an option
# added to the command without its documentation fails here.

import os
import re
import subprocess
import sys

# "  -q, --quiet   …", "  --plugin-dir=DIR   …" in a GOption --help.
OPTION_LINE = re.compile(r"^\s+(?:-(?P<short>[A-Za-z0-9]), )?--(?P<long>[A-Za-z0-9][A-Za-z0-9-]*)")
# "  list       List the plugins…" under "Commands:" (host/cli/workpool.c).
COMMAND_LINE = re.compile(r"^  (?P<name>[a-z][a-z0-9-]*)\s{2,}\S")

tests = []


def check(ok, description, diagnostic=None):
    tests.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(tests), description))
    if not ok and diagnostic:
        for line in diagnostic.splitlines():
            print("# " + line)


def run_help(workpool, command):
    argv = [workpool] + ([command] if command else []) + ["--help"]
    env = dict(os.environ, LC_ALL="C.UTF-8")
    done = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    if done.returncode != 0:
        print("Bail out! %s exited with %d: %s"
              % (" ".join(argv), done.returncode, done.stderr.strip()))
        sys.exit(1)
    return done.stdout


def help_options(text):
    """[(short or None, long)] of a --help text, in order."""
    options = []
    for line in text.splitlines():
        match = OPTION_LINE.match(line)
        if match:
            options.append((match.group("short"), match.group("long")))
    return options


def help_commands(text):
    lines = text.splitlines()
    if "Commands:" not in lines:
        print("Bail out! `workpool --help` has no Commands: list")
        sys.exit(1)
    commands = []
    for line in lines[lines.index("Commands:") + 1:]:
        match = COMMAND_LINE.match(line)
        if not match:
            break
        commands.append(match.group("name"))
    return commands


def roff_option(prefix, name):
    """How roff writes the option: hyphens escaped."""
    return (prefix + name).replace("-", "\\-")


def mentions(text, prefix, name):
    # Not followed by a letter, a digit or another escaped hyphen, so
    # that --plugin does not match \-\-plugin\-dir.
    pattern = re.escape(roff_option(prefix, name)) + r"(?![A-Za-z0-9]|\\-)"
    return re.search(pattern, text) is not None


def section(page, start, ends):
    """The lines of PAGE from the line START to the next line that starts
    with one of ENDS, or None when START is not in PAGE."""
    lines = page.splitlines()
    try:
        first = lines.index(start)
    except ValueError:
        return None
    body = []
    for line in lines[first + 1:]:
        if line.startswith(ends):
            break
        body.append(line)
    return "\n".join(body)


def check_options(where, options, text, synopsis):
    for short, name in options:
        check(mentions(text, "--", name), "%s: --%s is documented" % (where, name))
        if short is not None:
            check(mentions(text, "-", short), "%s: -%s is documented" % (where, short))
        if name != "help":
            check(synopsis is not None and mentions(synopsis, "--", name),
                  "%s: --%s is in the SYNOPSIS" % (where, name))


def main():
    if len(sys.argv) != 3:
        print("Bail out! usage: check-options.py WORKPOOL PAGE")
        sys.exit(1)
    workpool, page_path = sys.argv[1:]
    with open(page_path, encoding="utf-8") as page_file:
        page = page_file.read()

    main_help = run_help(workpool, None)
    commands = help_commands(main_help)
    check(len(commands) > 0, "`workpool --help` lists commands")

    options = section(page, ".SH OPTIONS", (".SH",))
    check(options is not None, "the page has an OPTIONS section")
    check_options("workpool", help_options(main_help), options or "",
                  section(page, ".SY workpool", (".YS",)))

    for command in commands:
        title = '"workpool %s"' % command
        text = section(page, ".SS " + title, (".SS", ".SH"))
        check(text is not None, "%s has a subsection .SS %s" % (command, title))
        check_options("workpool " + command, help_options(run_help(workpool, command)),
                      text or "", section(page, ".SY " + title, (".YS",)))

    print("1..%d" % len(tests))


if __name__ == "__main__":
    main()
