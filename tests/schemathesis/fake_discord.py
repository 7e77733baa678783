"""A fake Discord API for tests/schemathesis/run, on a loopback port: with a
`Bot` token, `GET /users/{id}` answers that user with a fixed avatar hash;
anything else is Discord's 404 "Unknown User". usher reads avatars through
it for photo verification, so the Discord refresh
(`PATCH /discord-actions/avatar/update/{discordId}`) runs its own code
instead of answering 503 `discord.not_configured`.

Usage: fake_discord.py PORT
"""

import http.server
import json
import re
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        user = re.fullmatch(r"/users/(\d+)", self.path)
        if user and self.headers.get("Authorization", "").startswith("Bot "):
            self.reply(200, {"id": user[1], "username": "fuzz", "discriminator": "0", "avatar": "a" * 32})
        else:
            self.reply(404, {"message": "Unknown User", "code": 10013})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
