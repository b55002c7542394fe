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


def __bringup_stopped(signum, _frame):
    words = {2: "interrupted (Ctrl-C)", 15: "stopped by SIGTERM",
             1: "the terminal went away (SIGHUP)"}.get(signum, "stopped by a signal")
    # the unpacking's own workers (a process pool) would print tracebacks
    # when their parent is gone: they end first, silently
    me = str(__bringup_os.getpid())
    try:
        for pid in __bringup_os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        parent = f.read().rsplit(")", 1)[1].split()[1]
                except OSError:
                    continue
                if parent == me:
                    try:
                        __bringup_os.kill(int(pid), __bringup_signal.SIGKILL)
                    except OSError:
                        pass
    except OSError:
        pass
    try:
        __bringup_os.write(2, ("bringup: %s while unpacking itself (first start); nothing "
                               "was changed\n" % words).encode())
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
