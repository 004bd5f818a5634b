"""systemd_check: the systemd units of deploy/systemd, as `meson install` writes them.

Installs the units and both programs into a scratch root beside a copy of the host's own
units (systemd-analyze resolves sysinit.target and the like there), then:
  - `systemd-analyze verify` must pass and print nothing: it exits 0 on an unknown key or
    a value it cannot parse, and only says so, so any output is a failure;
  - `systemd-analyze security --offline` must rate each unit at or under its exposure
    threshold (0-10, lower is better; the units were written to 1.2 and 1.9);
  - ExecStart must start the installed program, with flags the program has (--help), and
    so must the example environment files' options.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from checks import check_args, program_flags, report

# Most exposure each unit may have, in systemd-analyze's tenths (--threshold).
THRESHOLDS = {"p2c2r-coordinator.service": 15, "p2c2r-peer@.service": 21}
# Which program each unit starts, and its environment file's variable.
PROGRAMS = {"p2c2r-coordinator.service": ("p2c2r-coordinator", "P2C2R_COORDINATOR_OPTS"),
            "p2c2r-peer@.service": ("p2c2r-peer", "P2C2R_PEER_OPTS")}


def exec_start(path):
    lines = [l for l in open(path).read().splitlines() if l.startswith("ExecStart=")]
    if len(lines) != 1:
        raise SystemExit(f"{path}: wants one ExecStart=, has {len(lines)}")
    return shlex.split(lines[0][len("ExecStart="):])


def env_options(path, var):
    for line in open(path).read().splitlines():
        if line.startswith(var + "="):
            return shlex.split(line[len(var) + 1:])
    raise SystemExit(f"{path}: no {var}=")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True, help="where the units expect the programs")
    ap.add_argument("--program", action="append", required=True, help="built program")
    ap.add_argument("--unit", action="append", required=True, help="generated unit")
    ap.add_argument("--env", action="append", required=True, help="example env file")
    a = ap.parse_args()
    errors = []
    programs = {os.path.basename(p): p for p in a.program}
    flags = {name: program_flags(path) for name, path in programs.items()}
    envs = {os.path.basename(p): p for p in a.env}

    with tempfile.TemporaryDirectory(prefix="p2c2r-units-") as root:
        shutil.copytree("/usr/lib/systemd/system", root + "/usr/lib/systemd/system",
                        symlinks=True)
        unitdir = root + "/etc/systemd/system"
        os.makedirs(unitdir)
        os.makedirs(root + a.bindir)
        for name, path in programs.items():
            shutil.copy(path, root + a.bindir + "/" + name)
        units = []
        for path in a.unit:
            units.append(unitdir + "/" + os.path.basename(path))
            shutil.copy(path, units[-1])

        verify = subprocess.run(["systemd-analyze", "verify", "--man=no", "--generators=no",
                                 "--root=" + root] + units, capture_output=True, text=True)
        said = (verify.stdout + verify.stderr).strip()
        if verify.returncode != 0 or said:
            errors.append(f"systemd-analyze verify (exit {verify.returncode}): {said}")

        for unit in units:
            name = os.path.basename(unit)
            sec = subprocess.run(["systemd-analyze", "security", "--offline=true",
                                  "--threshold=%d" % THRESHOLDS[name], "--root=" + root,
                                  "--no-pager", unit], capture_output=True, text=True)
            level = [l for l in sec.stdout.splitlines() if "Overall exposure level" in l]
            print(level[0].strip("→ ") if level else sec.stdout + sec.stderr)
            if sec.returncode != 0:
                errors.append(f"{name}: exposure over {THRESHOLDS[name] / 10} (or the "
                              f"review failed): {sec.stderr.strip()}")

            program, var = PROGRAMS[name]
            argv = exec_start(unit)
            if argv[0] != a.bindir + "/" + program:
                errors.append(f"{name}: ExecStart runs {argv[0]}, not {a.bindir}/{program}")
            # $VARS are the environment files' options, checked below.
            args = [w for w in argv[1:] if not w.startswith("$")]
            check_args(args, flags[program], name + " ExecStart", errors)
            env = "coordinator.env" if program == "p2c2r-coordinator" else "peer.env"
            check_args(env_options(envs[env], var), flags[program], env, errors)

    return report(errors, f"systemd units: {len(a.unit)} checked")


if __name__ == "__main__":
    sys.exit(main())
