#!/usr/bin/env python3
"""Records the raw requests OTP's own epmd clients send, for tests/epmd/protocol_test.cpp.

Listens on a free loopback port, points `epmd -names/-kill/-stop` and an `erl` node at it and
prints every connection's bytes in hex. Each connection is answered with nothing and closed,
so the clients give up quickly. Usage: python3 capture_requests.py
"""
import socket, subprocess, threading, os

def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    port = srv.getsockname()[1]
    seen = []

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.settimeout(2)
            data = b""
            try:
                while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
                    d = c.recv(4096)
                    if not d:
                        break
                    data += d
            except socket.timeout:
                pass
            seen.append(data)
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    env = dict(os.environ, ERL_EPMD_PORT=str(port))
    for args in (["-names"], ["-kill"], ["-stop", "foo"]):
        subprocess.run(["epmd", "-port", str(port)] + args, capture_output=True, env=env)
        print("epmd", *args, "->", seen[-1].hex() if seen else None)
    # erl registers (ALIVE2_REQ) and gives up when we hang up. -start_epmd false: erl must not
    # start an epmd daemon of its own (it would land on 4369 and outlive this script).
    before = len(seen)
    subprocess.run(["erl", "-sname", "cap", "-start_epmd", "false", "-epmd_port", str(port),
                    "-noshell", "-eval",
                    "halt()."], capture_output=True, timeout=30)
    for d in seen[before:]:
        print("erl -sname cap ->", d.hex())
    before = len(seen)
    subprocess.run(["erl", "-noshell", "-start_epmd", "false", "-epmd_port", str(port), "-eval",
                    "io:format(\"~p~n\", [erl_epmd:port_please(\"foo\", {127,0,0,1})]),"
                    "io:format(\"~p~n\", [erl_epmd:names({127,0,0,1})]), halt()."],
                   capture_output=True, timeout=30)
    for d in seen[before:]:
        print("erl_epmd port_please/names ->", d.hex())
    srv.close()

if __name__ == "__main__":
    main()
