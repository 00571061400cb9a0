#!/usr/bin/env python3
"""A worker that misbehaves on purpose, for the master's fault tests: it speaks enough of
ComfyUI's API to be probed and sent units (its node list is a real native worker's, fetched from
UPSTREAM_PORT), accepts every prompt, reports it finished at once, and serves garbage instead of
the image. It has no WebSocket, so the master follows its prompts through /history.

usage: corrupt_worker.py UPSTREAM_PORT   (prints "corrupt worker ready on port N")"""
import json
import sys
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = int(sys.argv[1])
PROMPTS = {}
LOCK = threading.Lock()


def upstream(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{UPSTREAM}{path}", timeout=10) as r:
        return r.read()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/prompt":
            self.reply(200, {"exec_info": {"queue_remaining": 0}})
        elif path in ("/system_stats", "/object_info"):
            self.reply(200, upstream(path))
        elif path.startswith("/history/"):
            prompt_id = path[len("/history/"):]
            with LOCK:
                outputs = PROMPTS.get(prompt_id)
            if outputs is None:
                self.reply(200, {})
            else:
                self.reply(200, {prompt_id: {
                    "prompt": [], "outputs": outputs, "meta": {},
                    "status": {"status_str": "success", "completed": True, "messages": []}}})
        elif path == "/view":
            self.reply(200, b"\x89PNG this is not an image", "image/png")
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/prompt":
            prompt_id = str(uuid.uuid4())
            outputs = {}
            for node_id, node in body.get("prompt", {}).items():
                if node.get("class_type") in ("PreviewImage", "SaveImage"):
                    outputs[node_id] = {"images": [
                        {"filename": "broken.png", "subfolder": "", "type": "temp"}]}
            with LOCK:
                PROMPTS[prompt_id] = outputs
            self.reply(200, {"prompt_id": prompt_id, "number": 1, "node_errors": {}})
        else:
            self.reply(200, b"", "text/plain")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"corrupt worker ready on port {server.server_address[1]}", flush=True)
server.serve_forever()
