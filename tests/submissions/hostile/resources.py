# Memory, output and disk bombs, each bounded by itself.
import ctypes
import sys


def memory_bomb(gigabytes=20):
    hog = []
    for _ in range(gigabytes):
        hog.append(bytearray(1 << 30))
    return len(hog)


def giant_output(megabytes=10):
    line = "x" * 1023 + "\n"
    for _ in range(megabytes * 1024):
        sys.stdout.write(line)
    sys.stderr.write("done\n")
    return megabytes


def sparse_file(gigabytes=20):
    with open("sparse.bin", "wb") as fh:
        fh.seek(gigabytes << 30)
        fh.write(b"x")
    return "written"


def segfault():
    return ctypes.string_at(0)


def ok():
    return 1
