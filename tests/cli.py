"""Run the ``glance`` and ``openstack`` commands for the CLI tests, without paying their imports.

``openstack`` imports for about a second of CPU before it does anything (several
seconds of wall time on a loaded machine), and a CLI test runs it a dozen times. So
one helper process per test process imports both clients once, and each command runs
in a fork of it: the console script's own ``main()`` with the command's argv,
environment, working directory, standard input (closed or /dev/null) and exit status,
and its output captured like ``subprocess.run(..., capture_output=True, text=True)``.
"""
import atexit
import json
import os
import subprocess
import sys
import tempfile

# The console scripts of python-glanceclient and python-openstackclient.
ENTRY_POINTS = {"glance": ("glanceclient.shell", "main"),
                "openstack": ("openstackclient.shell", "main")}

HELPER = r'''
import importlib, json, os, signal, sys
ENTRY_POINTS = %r
sys.argv = ["openstack"]        # cliff takes the program's name from it at import
for module, _ in ENTRY_POINTS.values():
    importlib.import_module(module)
requests_in, answers = sys.stdin, os.fdopen(os.dup(1), "w")
for line in requests_in:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:       # the command; it ends as its console script does: sys.exit(main())
        signal.alarm(job["timeout"])
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
            opened = os.open(path, os.O_WRONLY | os.O_TRUNC)
            os.dup2(opened, fd)         # under sys.stdout and sys.stderr
            os.close(opened)
        if job["stdin"] == "closed":    # nothing may reopen fd 0 after this
            os.close(0)
            sys.stdin = None
        else:
            opened = os.open(os.devnull, os.O_RDONLY)
            os.dup2(opened, 0)
            os.close(opened)
            sys.stdin = open(0, closefd=False)
        sys.argv = [job["program"], *job["args"]]
        module, name = ENTRY_POINTS[os.path.basename(job["program"])]
        sys.exit(getattr(importlib.import_module(module), name)())
    _, status = os.waitpid(pid, 0)
    answers.write(json.dumps(os.waitstatus_to_exitcode(status)) + "\n")
    answers.flush()
''' % (ENTRY_POINTS,)

_helper = None


def _start():
    global _helper
    if _helper is None or _helper.poll() is not None:
        _helper = subprocess.Popen([sys.executable, "-c", HELPER], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        atexit.register(_helper.kill)
    return _helper


def run(command, args, env=None, timeout=120, stdin="devnull"):
    """Run console script ``command`` (a path; its name is ``glance`` or ``openstack``) with
    ``args``, as ``subprocess.run(..., capture_output=True, text=True)`` would.

    :param stdin: ``"devnull"`` or ``"closed"`` (as at a terminal: glanceclient and
        openstackclient read a non-TTY standard input as image data).
    """
    helper = _start()
    with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as err:
        job = {"program": command, "args": list(args), "cwd": os.getcwd(),
               "env": dict(os.environ if env is None else env), "stdin": stdin,
               "timeout": int(timeout), "stdout": out.name, "stderr": err.name}
        helper.stdin.write(json.dumps(job) + "\n")
        helper.stdin.flush()
        code = json.loads(helper.stdout.readline())
        stdout, stderr = _read(out.name), _read(err.name)
    return subprocess.CompletedProcess([command, *args], code, stdout, stderr)


def _read(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()
