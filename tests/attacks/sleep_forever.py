# Attack: never returns; the run must end at the time limit.
import time

time.sleep(10**9)
