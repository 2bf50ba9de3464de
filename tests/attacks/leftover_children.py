# Attack: leaves 50 sleeping children and a double-forked setsid daemon that keeps writing a file.
import os
import subprocess
import sys
import time

MARKER = sys.argv[0] + ".daemon-was-here"
for _ in range(50):
    subprocess.Popen(["sleep", "1000"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            for target in ("/tmp/cnngrade-daemon-was-here", MARKER):
                try:
                    with open(target, "a") as handle:
                        handle.write("still alive\n")
                except OSError:
                    pass
            time.sleep(0.2)
    os._exit(0)
time.sleep(1)
