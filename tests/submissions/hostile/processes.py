# Processes that try to outlive the call: a bounded fork bomb and a setsid'd grandchild.
import os
import time


def fork_bomb(limit=400):
    # Bounded by itself (limit children, each sleeping 60 s), so a broken sandbox fails the
    # test rather than the machine.
    made, refused = 0, 0
    for _ in range(limit):
        try:
            pid = os.fork()
        except OSError:
            refused += 1
            continue
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        made += 1
    return {"made": made, "refused": refused}


def escaped_grandchild():
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        grandchild = os.fork()
        if grandchild == 0:
            os.environ.clear()
            time.sleep(60)
            os._exit(0)
        os.write(write_end, str(grandchild).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    return int(os.read(read_end, 32))
