#!/usr/bin/env bash
# Recreates the seed corpora under fuzz/corpus/<target>/ from spec/vectors/ and a few
# hand-written valid inputs. Needs bash and python3. Run from anywhere:
#   fuzz/seed.sh
# Targets that take a leading selector byte (see each target's doc comment) get seeds with
# every relevant selector. Corpus directories are git-ignored; libFuzzer adds to them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 - "$here" <<'PY'
import base64, glob, json, os, re, sys, hashlib

fuzz = sys.argv[1]
vectors = os.path.join(fuzz, "..", "spec", "vectors")
corpus = os.path.join(fuzz, "corpus")

def out(target, data, selector=None):
    if isinstance(data, str):
        data = data.encode()
    if selector is not None:
        data = bytes([selector]) + data
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def read(name):
    with open(os.path.join(vectors, name), encoding="utf-8") as f:
        return f.read()

def unwrap(text):
    """Joins a token printed over several lines (spec line wrapping)."""
    return re.sub(r"\s+", "", text)

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def json_files():
    for path in sorted(glob.glob(os.path.join(vectors, "*.json"))):
        with open(path, encoding="utf-8") as f:
            yield os.path.basename(path), f.read()

def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)

def objects(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from objects(v)
    elif isinstance(value, list):
        for v in value:
            yield from objects(v)

parsed = {}
for name, text in json_files():
    out("strict_json", text)
    try:
        parsed[name] = json.loads(text)
    except ValueError:
        pass
for extra in ['{}', '[]', '{"a":1,"a":2}', '[' * 40 + ']' * 40, '{"a":[1,2.5,-3e2,true,null,"\\u00e9"]}']:
    out("strict_json", extra)

# --- JOSE -----------------------------------------------------------------------------------
compacts = []
for name in ["rfc9901-a1-presentation.txt", "rfc9901-a3-presentation.txt",
             "rfc9901-5.2-presentation.txt", "rfc9901-5.1-issuance.txt"]:
    token = unwrap(read(name))
    compacts.append(token.split("~")[0])
    out("sd_jwt_parse", token)
    for part in token.split("~")[1:]:
        if part:
            out("sd_jwt_parse", part)
compacts.append(unwrap(read("status-list-14-8.2-response-jwt.txt")))
for value in parsed.values():
    for s in strings(value):
        if re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", unwrap(s)):
            compacts.append(unwrap(s))
for c in compacts:
    out("jws_decode", c)
    out("status_list_decode", c, 2)
    out("trust_list_verify", c, 0)
    out("oid4vci_messages", c, 4)
    out("oid4vp_messages", c, 5)
for value in parsed.values():
    for s in strings(value):
        s = unwrap(s)
        if s.count(".") == 4:
            for sel in (0, 1, 2, 0x80):
                out("jwe_decrypt", s, sel)
for value in parsed.values():
    for obj in objects(value):
        if "kty" in obj:
            out("jwk_parse", json.dumps(obj))
for name, d in parsed.items():
    for pair in d.get("pairs", []) if isinstance(d, dict) else []:
        out("sd_jwt_parse", pair[1])

# --- X.509 ----------------------------------------------------------------------------------
for pem in sorted(glob.glob(os.path.join(vectors, "*.pem"))):
    with open(pem, encoding="utf-8") as f:
        body = "".join(l.strip() for l in f if not l.startswith("-----"))
    out("x509_chain", body, 0)
    out("x509_chain", body + "\n" + body, 0)
    out("x509_chain", base64.b64decode(body), 1)

# --- Status List ----------------------------------------------------------------------------
for name in sorted(os.listdir(vectors)):
    if name.startswith("status-list-14-"):
        for lst in re.findall(r'"lst"\s*:\s*"([^"]+)"', read(name).replace("\n", "")):
            out("status_list_decode", unwrap(lst), 0)
            out("status_list_decode", json.dumps({"bits": 1, "lst": unwrap(lst)}), 1)
example = read("status-list-14-5.1-jwt-example.txt").split(".", 1)[1]
out("status_list_decode", example.strip(), 3)
claims = json.loads(example)
claims["iat"] = 1_749_990_000
out("status_list_decode", json.dumps(claims), 3)

# --- Trust list (spec/trust-list.md example, with real-shaped keys) -------------------------
x = "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ"
y = "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"
hx = "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc"
hy = "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"
trust = {
    "iss": "https://trust.example.gov", "iat": 1_749_000_000, "exp": 1_760_000_000,
    "sequence": 42,
    "entities": [
        {"id": "https://pid.example.gov", "name": "State PID issuer",
         "roles": ["pid_issuer", "person_attestation_issuer"],
         "keys": [{"kty": "EC", "crv": "P-256", "kid": "pid-1", "x": x, "y": y}],
         "vct": ["https://pid.example.gov/vct/pid/1"],
         "valid_from": 1_700_000_000, "valid_until": 1_800_000_000},
        {"id": "https://verifier.example", "name": "Age verifier", "roles": ["verifier"],
         "keys": [{"kty": "EC", "crv": "P-256", "kid": "att-1", "x": hx, "y": hy}],
         "x509_hash": "Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk",
         "valid_from": 1_700_000_000, "valid_until": 1_800_000_000},
        {"id": "https://court.example", "name": "Court", "roles": ["court_escrow"],
         "escrow_key": {"kty": "OKP", "crv": "X25519", "kid": "escrow-2026",
                        "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},
         "valid_from": 1_700_000_000, "valid_until": 1_800_000_000},
        {"id": "https://school.example", "name": "School", "roles": ["training_provider"],
         "keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "s-1",
                   "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}],
         "courses": ["FIRST-AID-1"],
         "valid_from": 1_700_000_000, "valid_until": 1_800_000_000},
    ],
}
out("trust_list_verify", json.dumps(trust), 1)
out("trust_list_verify", json.dumps(trust), 3)

# --- Court orders: claims for the judge of the target's fixed trust list (selector 1), an
# unsigned one (selector 0).
order = {"iss": "https://court.example/judges/1", "jti": "b3JkZXItaWQtMDAwMDAwMQ",
         "iat": 1_750_000_000, "exp": 1_750_086_400, "case": "2026/CH-0042",
         "ground": "harassment", "platform": "https://platform.example",
         "pseudonym": "q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA",
         "deadline": 1_750_086_400}
out("court_order_verify", json.dumps(order), 1)
out("court_order_verify", json.dumps(dict(order, embargo_until=1_752_000_000)), 1)
out("court_order_verify", json.dumps(dict(order, pseudonym=[order["pseudonym"]] * 2)), 1)
out("court_order_verify", json.dumps(dict(order, pseudonym="*")), 1)
out("court_order_verify", json.dumps(dict(order, date_range=[1_749_000_000, 1_750_000_000])), 1)
out("court_order_verify",
    b64u(b'{"alg":"none","typ":"court-order+jwt","kid":"judge-1"}') + "."
    + b64u(json.dumps(order).encode()) + ".", 0)

# --- DCQL -----------------------------------------------------------------------------------
for name, d in parsed.items():
    if "dcql" in name and isinstance(d, dict):
        q = d.get("dcql_query", d)
        out("dcql_parse", json.dumps(q))
out("dcql_parse", json.dumps({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
    "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
    "claims": [{"id": "a", "path": ["address", "locality"]},
               {"id": "b", "path": ["nationalities", None]},
               {"id": "c", "path": ["birth_year"], "values": [1984]}],
    "claim_sets": [["a", "c"], ["b"]]}]}))

# --- OpenID4VCI -----------------------------------------------------------------------------
def query_of(text):
    text = unwrap(text)
    text = re.sub(r"HTTP/1\.1$", "", text)
    return text
for name in ["openid4vci-1.0-4.1.2-credential-offer-by-value-get.txt",
             "openid4vci-1.0-4.1.2-credential-offer-by-value-native.txt",
             "openid4vci-1.0-4.1.3-credential-offer-uri.txt",
             "openid4vci-1.0-4.1.3-credential-offer-authz-code.txt"]:
    q = query_of(read(name))
    out("oid4vci_messages", q, 0)
    if "?" in q:
        out("oid4vci_messages", "openid-credential-offer://?" + q.split("?", 1)[1], 0)
for name, d in parsed.items():
    if "credential-offer" in name:
        out("oid4vci_messages", json.dumps(d), 1)
    if "metadata" in name and name.startswith("openid4vci"):
        out("oid4vci_messages", json.dumps(d), 2)
for name in ["openid4vci-1.0-6.1-token-request-authorization-code.txt",
             "openid4vci-1.0-6.1-token-request-pre-authorized.txt"]:
    out("oid4vci_messages", unwrap(read(name)), 3)
out("oid4vci_messages", json.dumps({"aud": "https://issuer.example.com", "iat": 1_750_000_000,
                                    "nonce": "LarRGSbmUPYtRYO6BQ4yn8"}), 5)

# --- OpenID4VP ------------------------------------------------------------------------------
q = query_of(read("openid4vp-1.0-5.3-request-by-reference.txt")).replace("GET/authorize?", "")
out("oid4vp_messages", "openid4vp://?" + q, 0)
for cid in ["x509_san_dns:client.example.org", "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk",
            "redirect_uri:https://client.example.org/cb", "decentralized_identifier:did:example:123",
            "verifier_attestation:client.example.org", "client.example.org", "openid_federation:https://a"]:
    out("oid4vp_messages", cid, 1)
dcql = parsed.get("openid4vp-1.0-7.4-dcql-simple.json", {"credentials": []})
request = {"client_id": "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk",
           "response_type": "vp_token", "response_mode": "direct_post",
           "response_uri": "https://client.example.org/post", "nonce": "n-0S6_WzA2Mj",
           "dcql_query": dcql.get("dcql_query", dcql) if isinstance(dcql, dict) else dcql,
           "aud": "https://self-issued.me/v2", "iat": 1_749_999_000, "exp": 1_750_003_600}
out("oid4vp_messages", json.dumps(request), 2)
out("oid4vp_messages", json.dumps(request), 6)
out("oid4vp_messages", b64u(json.dumps({"type": "example_type",
    "credential_ids": ["id_card_credential"], "transaction_data_hashes_alg": ["sha-256"]}).encode()), 3)
out("oid4vp_messages", unwrap(read("openid4vp-1.0-8.2-direct-post-error.txt")), 4)
out("oid4vp_messages", "vp_token=" + "%7B%22pid%22%3A%5B%22eyJ.a.b~%22%5D%7D" + "&state=abc", 4)
out("oid4vp_messages", "response=" + "a..b.c.d", 4)
for name, d in parsed.items():
    if name.startswith("openid4vp") and "request-object" in name:
        out("oid4vp_messages", json.dumps(d), 2)

for t in sorted(os.listdir(corpus)):
    print(f"{t}: {len(os.listdir(os.path.join(corpus, t)))} seeds")
PY
