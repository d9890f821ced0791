"""The wallet driven from Python through the generated bindings, as an app drives it.

Run by `tests/bindings/foreign.rs` against the issuer and test verifier it started; the
environment says where they are. Holder keys: the wallet's built-in software key store.
HTTP: the app's own transport (urllib), an async foreign trait. Exits non-zero on the first
check that fails.
"""

import asyncio
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

import mobile_bindings as mb

ENV = os.environ
MAX_BODY = 1024 * 1024


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")


class StorageKey(mb.StorageKeyProvider):
    def __init__(self, key):
        self.key = key

    def storage_key(self):
        return self.key


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect comes back as the 3xx it is (urllib raises it as an HTTPError).
    def redirect_request(self, *args, **kwargs):
        return None


class UrllibTransport(mb.Transport):
    """The app's HTTP stack: urllib, trusting only the development CA, no redirects."""

    def __init__(self, cafile):
        context = ssl.create_default_context(cafile=cafile)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirect()
        )
        self.sent = 0

    async def send(self, request):
        self.sent += 1
        return await asyncio.to_thread(self._send, request)

    def _send(self, request):
        if not request.url.startswith("https://"):
            raise mb.WalletError.Network(reason="only https")
        post = request.method == mb.HttpMethod.POST
        outgoing = urllib.request.Request(
            request.url,
            data=bytes(request.body) if post else None,
            method="POST" if post else "GET",
        )
        for header in request.headers:
            outgoing.add_header(header.name, header.value)
        try:
            with self.opener.open(outgoing, timeout=30) as response:
                status, headers, body = response.status, response.headers, response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read(MAX_BODY + 1)
        except OSError as error:
            raise mb.WalletError.Network(reason=type(error).__name__)
        return mb.HttpResponse(status=status, content_type=headers.get("Content-Type"), body=body)


async def main():
    # Foreign async callbacks (the transport) are called from the wallet's own threads:
    # they run on this loop.
    mb.uniffi_set_event_loop(asyncio.get_running_loop())
    transport = UrllibTransport(ENV["CA_FILE"])
    key = bytes.fromhex(ENV["WALLET_STORAGE_KEY"])
    with open(ENV["ANCHOR_FILE"]) as anchor:
        settings = mb.WalletSettings(
            db_path=ENV["WALLET_DB"],
            trust_list_url=ENV["TRUST_LIST_URL"],
            trust_anchor_jwk=anchor.read(),
        )
    wallet = mb.Wallet(settings, StorageKey(key), None, transport)
    try:
        mb.Wallet(settings, StorageKey(bytes(32)), None, transport)
        check(False, "another storage key opened the wallet")
    except mb.WalletError.WrongKey:
        pass

    # Receive: the person sees who offers what, types a wrong code, then the right one.
    offer = await wallet.receive_offer(ENV["OFFER_URI"])
    summary = offer.summary()
    check(summary.issuer_name == "State issuer (development)", "issuer name")
    check(
        [c.labels.en for c in summary.credentials] == ["Identity (PID)", "Person attestation"],
        "offered types",
    )
    check(summary.tx_code is not None and summary.tx_code.length == 6, "tx_code shape")
    tx_code = ENV["TX_CODE"]
    try:
        await offer.accept("111111" if tx_code == "000000" else "000000")
        check(False, "a wrong code was accepted")
    except mb.WalletError.Refused as refused:
        check(refused.code == "invalid_grant", "refusal code")
    try:
        await offer.accept(tx_code)
        check(False, "an offer was answered twice")
    except mb.WalletError.AlreadyAnswered:
        pass
    offer = await wallet.receive_offer(ENV["OFFER_URI"])
    ids = await offer.accept(tx_code)
    check(len(ids) == 11, f"11 copies stored, not {len(ids)}")

    # List.
    credentials = await wallet.credentials()
    check(len(credentials) == 2, "one entry per batch")
    pid, attestation = credentials
    claims = {c.name: c for c in pid.claims}
    check(claims["family_name"].value == "Peeters", "family name")
    check(claims["family_name"].label.fr == "Nom", "claim label")
    check(sorted(claims["address"].value.split(", ")) == ["BE", "Gent", "Veldstraat 1"], "address as text")
    check(attestation.single_use and attestation.unused_copies == 10, "10 copies")
    check(await wallet.running_low() == [], "nothing running low")

    # Present: who asks what, on whose behalf; the person accepts.
    request = await wallet.receive_request(ENV["REQUEST_URI"])
    asked = request.summary()
    check(asked.verifier_name == "Shop (test)", "verifier name from the trust list")
    check(asked.platform == "Example Market" and asked.purpose == "Age check", "on whose behalf")
    check(asked.credentials[0].claims == ["age_over_18"] and asked.satisfiable, "claims asked")
    outcome = await request.accept()
    check(outcome.redirect_uri.startswith("https://verifier.example/done"), "redirect")

    # The log.
    log = await wallet.log()
    check([(e.kind, e.outcome) for e in log] == [("issuance", "received"), ("presentation", "presented")], "log")
    check(log[1].counterparty == "Shop (test)" and log[1].claims == ["age_over_18"], "log entry")
    exported = await wallet.export_log()
    check(len(json.loads(exported)) == 2, "exported log")
    check("Peeters" not in exported, "no claim value in the log")
    check(transport.sent > 0, "the app's transport carried the requests")
    print(json.dumps({"transport_requests": transport.sent}))
    print("flow complete")


asyncio.run(main())
# The flow's result is decided above (every check exits non-zero on failure). Interpreter
# finalisation can race the library's Rust runtime threads still parked, which once ended a
# finished run with a non-zero status and no output; leave without finalising.
sys.stdout.flush()
os._exit(0)
