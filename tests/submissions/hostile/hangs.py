# Never returns: a busy loop, and one that ignores SIGTERM first.
import signal
import time


def busy():
    while True:
        pass


def ignores_sigterm():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end = time.time() + 120  # bounded on its own, should the sandbox fail to stop it
    while time.time() < end:
        time.sleep(0.01)


def ok():
    return "still here"
