#!/usr/bin/env python3
"""Starts a local `memberlist agent`, runs hostile.py against it, stops the agent.

    run_local.py --cli path/to/memberlist [hostile.py options, e.g. --expect 4,5,6,7]

The agent listens on 127.0.0.1 with free ports (gossip and HTTP over TCP, with a bearer token
so that the HTTP check has something to refuse), profile local, no encryption, no label. Its
stdout goes to a temporary file that check 6 reads (--agent-log), its pid is passed for
check 3's memory measurement. The agent is stopped with SIGTERM (SIGKILL if it does not exit
within 20 s); the exit status is hostile.py's, or 1 if the agent could not be started or
died during the run.
"""

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
START_RE = re.compile(rb"agent +(\S+) gossip=(\S+) http=(\S+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="the memberlist binary (go/cmd)")
    ap.add_argument("--start-timeout", type=float, default=20.0)
    a, rest = ap.parse_known_args()

    with tempfile.TemporaryDirectory(prefix="ml-hostile-") as tmp:
        log_path = os.path.join(tmp, "agent.out")
        err_path = os.path.join(tmp, "agent.err")
        env = dict(os.environ, MEMBERLIST_HTTP_TOKEN=secrets.token_hex(16))
        with open(log_path, "wb") as out, open(err_path, "wb") as err:
            agent = subprocess.Popen(
                [a.cli, "agent", "--name", "target", "--profile", "local", "--bind", "127.0.0.1:0",
                 "--http", "127.0.0.1:0", "--meta", "role=target"],
                stdout=out, stderr=err, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + a.start_timeout
            m = None
            while m is None:
                with open(log_path, "rb") as f:
                    m = START_RE.search(f.read())
                if m:
                    break
                if agent.poll() is not None:
                    print("agent exited with %d before it started" % agent.returncode)
                    break
                if time.monotonic() > deadline:
                    print("agent printed no start line within %.0f s" % a.start_timeout)
                    break
                time.sleep(0.05)
            if m is None:
                return 1
            gossip, http = m.group(2).decode(), m.group(3).decode()
            print("agent pid %d gossip %s http %s" % (agent.pid, gossip, http), flush=True)
            cmd = [sys.executable, os.path.join(HERE, "hostile.py"), "--target", gossip, "--http", http,
                   "--pid", str(agent.pid), "--cli", a.cli, "--agent-log", log_path] + rest
            env_no_token = dict(os.environ)
            env_no_token.pop("MEMBERLIST_HTTP_TOKEN", None)  # the checks act without credentials
            rc = subprocess.run(cmd, env=env_no_token).returncode
            if agent.poll() is not None:
                print("the agent died during the run (exit status %d)" % agent.returncode)
                rc = 1
            return rc
        finally:
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                try:
                    agent.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(agent.pid, signal.SIGKILL)
                    agent.wait()
            with open(err_path, "rb") as f:
                e = f.read()
            if e.strip():
                sys.stdout.write("agent stderr:\n" + e.decode("utf-8", "replace")[-4000:] + "\n")


if __name__ == "__main__":
    sys.exit(main())
