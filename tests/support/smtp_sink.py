"""An SMTP server for forecourt's tests, built on aiosmtpd.

Listens on 127.0.0.1 on an ephemeral port and prints "READY <port>" once it
accepts connections. With SINK_USER and SINK_PASSWORD in the environment it
requires AUTH (PLAIN or LOGIN, allowed without TLS: loopback only). Every
message is written to DIRECTORY as NNNN.eml (the message as received) and
NNNN.json (envelope sender, recipients, authenticated login), the .json last,
so a reader that sees it sees the whole message. Stops when stdin closes, so
it never outlives the test that started it.

The aiosmtpd command line (`python3 -m aiosmtpd`) cannot require AUTH on a
plain connection or report the port it picked, hence this small script.
"""

import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, f"{self.count:04d}")
        login = getattr(session.auth_data, "login", None)
        raw = envelope.original_content or envelope.content
        # Parsed by Python's own e-mail package: the test reads the decoded
        # subject and text, and a malformed message fails here.
        message = email.message_from_bytes(raw, policy=email.policy.default)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login.decode() if isinstance(login, bytes) else login,
            "tls": session.ssl is not None,
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "to": str(message["to"]),
            "content_type": message.get_content_type(),
            "text": message.get_content(),
        }
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd then answers 235 or 535 itself.
        return AuthResult(
            success=ok, handled=False, auth_data=auth_data if ok else None
        )

    return check


async def main(directory):
    user = os.environ.get("SINK_USER")
    password = os.environ.get("SINK_PASSWORD")
    options = {"hostname": "sink.test", "auth_require_tls": False}
    cert, key = os.environ.get("SINK_TLS_CERT"), os.environ.get("SINK_TLS_KEY")
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options["tls_context"] = context
        options["require_starttls"] = True
    if user:
        options["authenticator"] = authenticator(user, password or "")
        options["auth_required"] = True
    loop = asyncio.get_running_loop()
    handler = Sink(directory)
    server = await loop.create_server(
        lambda: SMTP(handler, **options), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
