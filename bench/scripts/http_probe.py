#!/usr/bin/env python3
"""HTTP limits probe (docs/security.md): 300 silent or half-sent connections against a server
started with ulimit -n 256, then SIGTERM with a half-sent request. Loopback only.
Usage: bench/scripts/http_probe.py target/debug/mini-meeting"""
import sys
BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/mini-meeting"
import socket, subprocess, time, os, tempfile, urllib.request
d = tempfile.mkdtemp()
env = dict(os.environ, HTTP_ADDR="127.0.0.1:18431", DATA_DIR=d, SFU_UDP_ADDR="127.0.0.1:0",
           SFU_PUBLIC_IPS="127.0.0.1", LOG_LEVEL="warn", JWT_SECRET="x"*40)
p = subprocess.Popen(["bash", "-c", "ulimit -n 256; exec " + BIN + ""], env=env, stdout=subprocess.PIPE)
p.stdout.readline()
def health():
    try: return urllib.request.urlopen("http://127.0.0.1:18431/healthz", timeout=5).status
    except urllib.error.HTTPError as e: return e.code
    except Exception as e: return repr(e)[:60]
socks = []
for i in range(300):
    s = socket.create_connection(("127.0.0.1", 18431)); s.settimeout(30)
    if i % 2: s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
time.sleep(0.5)
print("healthz with 300 silent/half-sent open:", health())
t0 = time.time(); closed = 0; refused = 0
for s in socks:
    try:
        data = s.recv(100)
        while data:
            if data.startswith(b"HTTP/1.1 503"): refused += 1
            data = s.recv(100)
    except Exception: pass
    closed += 1
print(f"all 300 closed by the server within {time.time()-t0:.1f}s of the check; 503-refused over the cap: {refused}")
print("healthz after:", health())
h = socket.create_connection(("127.0.0.1", 18431)); h.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
time.sleep(0.2)
t0 = time.time(); p.terminate(); p.wait(timeout=60)
print(f"SIGTERM with a half-sent request: exited in {time.time()-t0:.1f}s, rc={p.returncode}")
