"""Receive govportal webhooks: verify the signature, skip repeats, act on the event."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["GOVPORTAL_WEBHOOK_SECRET"])  # whsec_…, shown at registration
seen: set[str] = set()  # a database table in production: ids repeat on retries


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:  # checks the HMAC over "id.timestamp.body" and that the timestamp is recent
            event = webhook.verify(body, dict(self.headers))
        except WebhookVerificationError:
            self.send_response(401)
        else:
            if event["id"] not in seen:
                seen.add(event["id"])
                print(event["type"], event["data"].get("url", ""), flush=True)
            self.send_response(204)
        self.end_headers()


HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Receiver).serve_forever()
