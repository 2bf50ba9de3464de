# Attack: reaches for the network: a listener on the host's loopback (port in CNNGRADE_TEST_PORT is not passed
# to the sandbox, so it is read from a file the test leaves in /tmp), a DNS lookup, and pip.
import socket
import subprocess
import sys

reached = []
try:
    port = int(open("/tmp/cnngrade-test-port").read())
    socket.create_connection(("127.0.0.1", port), timeout=3).sendall(b"hello from the sandbox")
    reached.append("loopback")
except OSError:
    pass
try:
    socket.getaddrinfo("pypi.org", 443)
    reached.append("dns")
except OSError:
    pass
if subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", ".", "six"],
                  capture_output=True, timeout=60).returncode == 0:
    reached.append("pip")
if reached:
    raise RuntimeError("NETWORK REACHED: " + ", ".join(reached))
