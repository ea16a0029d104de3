#!/usr/bin/env python3
"""Drives examples/web/index.html in headless Chromium through chromedriver (the W3C WebDriver
protocol over HTTP, with the standard library only): opens the page, waits until its title is
PASS or FAIL, prints the page's report, saves a screenshot, and exits non-zero unless PASS.

usage: web_test.py URL SCREENSHOT.png [chromium flags...]
"""
import base64
import json
import subprocess
import sys
import time
import urllib.request

DRIVER_PORT = 9515


def call(method, path, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{DRIVER_PORT}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)["value"]


def main():
    url, shot, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    driver = subprocess.Popen(
        ["chromedriver", f"--port={DRIVER_PORT}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--window-size=1000,1000"] + flags
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"args": args, "binary": "/usr/bin/chromium"},
        }}}
        session = call("POST", "/session", caps)["sessionId"]
        try:
            call("POST", f"/session/{session}/url", {"url": url})
            deadline = time.time() + 180
            title = ""
            while time.time() < deadline:
                title = call("GET", f"/session/{session}/title")
                if title in ("PASS", "FAIL"):
                    break
                time.sleep(0.25)
            text = call("POST", f"/session/{session}/execute/sync", {
                "script": "return document.getElementById('probe').textContent + '\\n' + "
                          "document.getElementById('result').innerText;",
                "args": [],
            })
            png = call("GET", f"/session/{session}/screenshot")
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png))
            print(f"chromium flags: {' '.join(flags) or '(none)'}")
            print(text)
            print(f"title: {title or '(timed out)'}; screenshot: {shot}")
            return 0 if title == "PASS" else 1
        finally:
            call("DELETE", f"/session/{session}")
    finally:
        driver.terminate()
        driver.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
