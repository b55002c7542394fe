# bringup's preamble to the bundle's own start (scripts/build-dist: pex
# --preamble-file). The first start of dist/bringup unpacks it for seconds
# before bringup's own code runs; a signal then must end it as bringup ends
# before a run begins (hwprobe/stopping.py): one line, 128 + the signal, no
# traceback, nothing changed. When the bundle re-executes itself into the
# unpacked files, the signals are blocked across the exec: one that arrives
# in the new interpreter's first milliseconds waits for bringup's handlers,
# which unblock them (hwprobe.stopping.guard).
# Plain Python, run before pex's own bootstrap: it must not import bringup.
import os as __bringup_os
import signal as __bringup_signal


def __bringup_descendants():
    """Every process below this one (children, theirs...), from /proc."""
    parents = {}
    try:
        for pid in __bringup_os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        parents[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
    except OSError:
        return []
    found, todo = [], [__bringup_os.getpid()]
    while todo:
        parent = todo.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found += kids
        todo += kids
    return found


def __bringup_stopped(signum, _frame):
    words = {2: "interrupted (Ctrl-C)", 15: "stopped by SIGTERM",
             1: "the terminal went away (SIGHUP)"}.get(signum, "stopped by a signal")
    # the unpacking's own workers (a process pool, and what it forks) would
    # print tracebacks once their parent is gone, and this process's pool
    # threads once the workers are: the workers end first, silently, with
    # standard error pointed away meanwhile (the one line goes to the real one)
    try:
        __bringup_err = __bringup_os.dup(2)
        __bringup_null = __bringup_os.open(__bringup_os.devnull, __bringup_os.O_WRONLY)
        __bringup_os.dup2(__bringup_null, 2)
    except OSError:
        __bringup_err = 2
    # stopped first, every one (a stopped process neither forks nor dies, so
    # none is orphaned out of reach), then killed
    __bringup_tree = []
    for __bringup_round in range(10):
        __bringup_new = [pid for pid in __bringup_descendants() if pid not in __bringup_tree]
        if not __bringup_new:
            break
        for __bringup_pid in __bringup_new:
            try:
                __bringup_os.kill(__bringup_pid, __bringup_signal.SIGSTOP)
            except OSError:
                pass
        __bringup_tree += __bringup_new
    for __bringup_pid in __bringup_tree:
        try:
            __bringup_os.kill(__bringup_pid, __bringup_signal.SIGKILL)
        except OSError:
            pass
    try:
        __bringup_os.write(__bringup_err, ("bringup: %s while unpacking itself (first "
                                           "start); nothing was changed\n" % words).encode())
    except OSError:
        pass
    __bringup_os._exit(128 + signum)


def __bringup_blocking(exec_function):
    def exec_with_signals_blocked(*args, **kwargs):
        __bringup_signal.pthread_sigmask(__bringup_signal.SIG_BLOCK, __bringup_signals)
        try:
            return exec_function(*args, **kwargs)
        finally:        # the exec failed: back to this process's handlers
            __bringup_signal.pthread_sigmask(__bringup_signal.SIG_UNBLOCK, __bringup_signals)
    return exec_with_signals_blocked


__bringup_signals = (__bringup_signal.SIGINT, __bringup_signal.SIGTERM,
                     __bringup_signal.SIGHUP)
for __bringup_sig in __bringup_signals:
    __bringup_signal.signal(__bringup_sig, __bringup_stopped)
__bringup_os.execv = __bringup_blocking(__bringup_os.execv)
__bringup_os.execve = __bringup_blocking(__bringup_os.execve)
__bringup_signal.pthread_sigmask(__bringup_signal.SIG_UNBLOCK, __bringup_signals)
