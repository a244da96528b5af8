import os

open("MARKER", "w").write("top-level code ran\n")
os.makedirs("MARKER_DIR", exist_ok=True)


def leave_marker(path="MARKER_FROM_DEF"):
    with open(path, "w") as fh:
        fh.write("a function ran\n")


leave_marker()

if __name__ == "__main__":
    leave_marker("MARKER_FROM_MAIN")
