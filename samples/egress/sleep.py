"""A tiny client app for the egress sample: GET /fetch?url=URL fetches URL the way any app would (urllib, which
honours http_proxy) and answers with that response's status and body. It knows nothing about Bowline."""
import os
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        target = urllib.parse.urlparse(self.path)
        url = urllib.parse.parse_qs(target.query).get("url", [""])[0]
        if target.path != "/fetch" or not url:
            status, body = 404, b"usage: /fetch?url=http://host/path\n"
        else:
            try:
                with urllib.request.urlopen(url, timeout=20) as response:
                    status, body = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read()
            except OSError as error:
                status, body = 504, f"fetch failed: {error}\n".encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
