#!/usr/bin/env python3
"""bench/gateway_slowloris.py — attack and idle-connection load for bench/gateway_slowloris.sh.

  slowloris PORT N SECONDS   N connections from 127.0.0.2, each sends a request line and then one
                             header line per second; closed ones are re-opened (N/5 per second).
                             Prints held/refused/closed counts at the end.
  idle PORT N                N keep-alive connections from 127.0.1.1..40: one GET /healthz each,
                             the answer read, then held open until stdin closes. Prints "ready
                             <answered>" once all are answered.
"""
import select, socket, sys, time


def conn(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def slowloris(port, n, seconds):
    socks = [None] * n
    opened = refused = closed = held_max = 0
    end = time.time() + seconds
    nxt = 0
    while time.time() < end:
        reopened = 0
        for k in range(n):
            i = (nxt + k) % n
            if socks[i] is None and reopened < n // 5:
                try:
                    s = conn("127.0.0.2", port)
                    s.setblocking(False)
                    s.send(b"GET /healthz HTTP/1.1\r\nHost: attack\r\n")
                    socks[i] = s
                    opened += 1
                except OSError:
                    pass
                reopened += 1
                nxt = i + 1
        tick = time.time() + 1
        while time.time() < tick:
            live = {s.fileno(): s for s in socks if s is not None}
            p = select.poll()
            for fd in live:
                p.register(fd, select.POLLIN)
            for fd, _ in p.poll(50):
                s = live[fd]
                try:
                    d = s.recv(512)
                except OSError:
                    d = b""
                if d.startswith(b"HTTP/1.1 429"):
                    refused += 1
                else:
                    closed += 1
                socks[socks.index(s)] = None
                s.close()
        held = 0
        for i, s in enumerate(socks):
            if s is None:
                continue
            try:
                s.send(b"X-Drip: 1\r\n")
                held += 1
            except OSError:
                socks[i] = None
                s.close()
                closed += 1
        held_max = max(held_max, held)
    print(f"slowloris: opened {opened}, held at most {held_max} at once, refused {refused}, closed {closed}")


def idle(port, n):
    socks = []
    for i in range(n):
        s = conn(f"127.0.1.{1 + i % 40}", port)
        s.send(b"GET /healthz HTTP/1.1\r\nHost: idle\r\n\r\n")
        socks.append(s)
    ok = 0
    for s in socks:
        s.settimeout(10)
        if s.recv(1024).startswith(b"HTTP/1.1 200"):
            ok += 1
    print(f"ready {ok}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    if sys.argv[1] == "slowloris":
        slowloris(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        idle(int(sys.argv[2]), int(sys.argv[3]))
