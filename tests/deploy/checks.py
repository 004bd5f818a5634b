"""What the checks of deploy/ share: the command-line flags the programs really take, read
from their --help; a check of an argument list against them (deployment files must not
pass a flag that does not exist, leave a flag without its value, or pass stray words);
and the closing report."""
import re
import subprocess
import sys


def program_flags(binary):
    """{flag: takes_value} from `binary --help`: every '  --name' or '  -x, --name' line,
    with a value when an upper-case word follows the name."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    flags = {}
    for m in re.finditer(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)( [A-Z][A-Z,]*)?", out, re.M):
        flags[m.group(1)] = m.group(2) is not None
    if not flags:
        raise SystemExit(f"{binary} --help lists no flags")
    return flags


def check_args(args, flags, where, errors):
    """Append to errors what is wrong with args for a program taking flags. Returns
    {flag: value} of what args set (a flag without a value maps to True)."""
    given = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name not in flags:
            errors.append(f"{where}: '{arg}' is not a flag of the program (--help)")
            i += 1
            continue
        if flags[name] and not eq:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                errors.append(f"{where}: {name} needs a value")
                i += 1
                continue
            value = args[i + 1]
            i += 1
        elif not flags[name] and eq:
            errors.append(f"{where}: {name} takes no value")
        given[name] = value if flags[name] else True
        i += 1
    return given


def report(errors, summary):
    """Print every problem and the summary line; the exit code."""
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    print(f"{summary}, {len(errors)} problem(s)")
    return 1 if errors else 0
