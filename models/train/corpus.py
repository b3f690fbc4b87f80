"""Stage 2/3: build labelled requests and split them.

A request record is the `apiward featurize` input:
  {"method","uri","headers":{lower-case name: value},"body"?,"label","target"?,"payload"?}
Metadata that the CLI does not need (split, provider, source, family) goes to a parallel list.

Splits: benign traffic by API provider (hash of the provider name); attacks by payload source and
family (explicit map below, generated families by hash). An attack is placed into an endpoint of
the same split, so test requests combine unseen APIs with unseen payload sources.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import urllib.parse
from dataclasses import dataclass

from attacks import Payload
from benign import Endpoint, Param, ValueGen, benign_url, fake_jwt, _b64, opaque_credential, upload_form

SPLITS = ("train", "val", "test")

# (source, family prefix) -> split; first match wins. Unlisted: generated families are hashed.
SOURCE_SPLIT = [
    ("sqlmap", "", "train"),
    ("wapiti3", "", "test"),
    ("wfuzz", "Injections/", "test"),
    ("wfuzz", "vulns/", "val"),
    ("payloadforge", "", "val"),
    ("CRLFsuite", "", "test"),
]


def _h(s: str) -> float:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16) / float(1 << 48)


def provider_split(provider: str) -> str:
    x = _h("provider:" + provider)
    return "train" if x < 0.70 else ("val" if x < 0.85 else "test")


def payload_split(p: Payload, families_by_class: dict[str, list[str]]) -> str:
    for src, fam, split in SOURCE_SPLIT:
        if p.source == src and p.family.startswith(fam):
            return split
    if p.source == "gen":
        # our own generators compose parts; every family is in train, payloads split by hash
        x = _h(f"payload:{p.label}:{p.text}")
        return "train" if x < 0.70 else ("val" if x < 0.85 else "test")
    # brs-kb (by tag): hold out ~15 % / 15 % of tags, but keep at least half of them in train.
    fams = families_by_class.get((p.source, p.label), [p.family])
    ranked = sorted(fams, key=lambda f: _h(f"family:{p.source}:{p.label}:{f}"))
    n = len(ranked)
    if n < 6:
        # too few families to hold one out without starving train: split payloads by hash
        x = _h(f"payload:{p.label}:{p.text}")
        return "train" if x < 0.70 else ("val" if x < 0.85 else "test")
    i = ranked.index(p.family)
    n_test = max(1, round(n * 0.15)) if n >= 3 else 0
    n_val = max(1, round(n * 0.15)) if n >= 3 else 0
    if n_test + n_val > n // 2:
        n_test = n_val = max(0, (n // 2) // 2) or 0
        if n_test == 0:
            n_val = 1 if n >= 3 else 0
    if i < n_test:
        return "test"
    if i < n_test + n_val:
        return "val"
    return "train"


# ------------------------------------------------------------------------------- request building

UA_FALLBACK = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "curl/8.5.0", "python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/2.0", "axios/1.6.2",
    "PostmanRuntime/7.36.0", "aws-sdk-java/2.21.0 Linux/5.15 OpenJDK_64-Bit_Server_VM/17", "Boto3/1.34.0 Python/3.11.7",
]

# URLs the server fetches (SSRF targets) and URLs the client is sent back to (open redirect;
# src/request.rs `ssrf_exempt` names the latter, where internal hosts are normal).
URL_PARAMS = ["url", "callback", "webhook_url", "image_url", "target", "feed", "src", "link", "endpoint", "proxy", "import_url", "avatar_url"]
REDIRECT_PARAMS = ["redirect_uri", "redirect", "returnTo", "return_to", "next", "continue", "redirect_url", "returnUrl", "success_url", "cancel_url"]
FILE_PARAMS = ["file", "path", "filename", "template", "page", "doc", "include", "download", "attachment", "dir", "folder", "lang"]
ANY_PARAMS = ["q", "search", "id", "filter", "name", "query", "sort", "user", "username", "email", "category", "comment", "title", "ref", "type", "host", "ip", "cmd", "token"]


def _enc(rng: random.Random, v: str, form: bool = False) -> str:
    r = rng.random()
    if r < 0.70:
        return urllib.parse.quote_plus(v, safe="") if form or rng.random() < 0.5 else urllib.parse.quote(v, safe="")
    if r < 0.85:  # loose client encoding (keeps some punctuation)
        return urllib.parse.quote(v, safe="'()*,;:$!/@~[]")
    return urllib.parse.quote(urllib.parse.quote(v, safe=""), safe="")  # double-encoded


def _json_loc(path: list) -> str:
    out = "$"
    for k in path:
        if isinstance(k, int):
            out += f"[{k}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]{1,64}", k):
            out += "." + k
        else:
            out += "[" + json.dumps(k, ensure_ascii=False) + "]"
    return out


def _json_leaves(doc, path=None):
    path = path or []
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _json_leaves(v, path + [k])
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _json_leaves(v, path + [i])
    elif isinstance(doc, str) or (isinstance(doc, (int, float)) and not isinstance(doc, bool)):
        yield path


def _set_path(doc, path, value):
    cur = doc
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value


def _xml_from(obj, tag="request", depth=0) -> str:
    if isinstance(obj, dict):
        inner = "".join(_xml_from(v, re.sub(r"[^A-Za-z0-9_]", "", str(k)) or "item", depth + 1) for k, v in obj.items())
    elif isinstance(obj, list):
        inner = "".join(_xml_from(v, "member", depth + 1) for v in obj)
    else:
        s = str(obj)
        inner = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<{tag}>{inner}</{tag}>"


_HEADER_UNSENDABLE = re.compile(r"[\r\n\x00]")


# Headers an attacker sets besides the usual ones: application headers that upstreams read, log or
# echo (file names, tenants, callbacks, method overrides, client ids).
CUSTOM_HEADERS = ["x-filename", "x-file-name", "x-original-url", "x-rewrite-url", "x-client-ip", "true-client-ip", "x-wap-profile",
                  "x-http-method-override", "x-tenant", "x-tenant-id", "x-user", "x-user-id", "x-callback", "x-debug",
                  "x-correlation-id", "x-device-id", "x-session", "x-auth-user", "x-forwarded-server", "x-host", "contact",
                  "from", "accept-charset", "if-none-match", "x-csrf-token", "x-requested-with", "destination", "x-locale"]


class RequestFactory:
    def __init__(self, rng: random.Random, vg: ValueGen, user_agents: list[str], header_gen=None):
        self.rng = rng
        self.vg = vg
        self.uas = user_agents or UA_FALLBACK
        # Real clients' headers (models/train/clients.py): called with the rng, returns headers.
        self.header_gen = header_gen
        # Draws a user agent by source, then family, then string (so one browser's thousands of
        # versions do not drown the SDK families); None: uniform over `uas`.
        self.ua_draw = None

    # -- benign pieces
    def _scalar(self, p: Param):
        v = self.vg.by_schema(p.name, p.schema)
        if isinstance(v, (dict, list)):
            v = json.dumps(v)
        if isinstance(v, bool):
            v = "true" if v else "false"
        return str(v)

    def headers(self) -> dict:
        rng, fake = self.rng, self.vg.fake
        h = {"user-agent": self.ua_draw(rng) if self.ua_draw else rng.choice(self.uas), "accept": rng.choice(["application/json", "*/*", "application/json, text/plain, */*"])}
        if rng.random() < 0.35:
            h["referer"] = benign_url(rng, fake)
        if rng.random() < 0.3:
            h["x-forwarded-for"] = ", ".join(f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.3:
            h["accept-language"] = rng.choice(["en-US,en;q=0.9", "de-DE,de;q=0.8,en;q=0.5", "fr-FR", "ja,en-US;q=0.7", "es-ES,es;q=0.9"])
        if rng.random() < 0.15:
            h["origin"] = "https://" + fake.domain_name()
        if rng.random() < 0.4:
            h["authorization"] = "Bearer " + fake_jwt(rng, fake)
        if rng.random() < 0.35:
            parts = [f"session={rng.choice([fake.uuid4(), _b64(rng, 24), fake.sha1()])}"]
            if rng.random() < 0.5:
                parts.append(rng.choice(["theme=dark", "lang=en-US", "tz=Europe%2FBerlin", "consent=analytics%3Dno%2Cads%3Dno",
                                         f"cart={urllib.parse.quote(json.dumps({'items': rng.randint(0, 5)}))}",
                                         f"_ga=GA1.2.{rng.randint(10**8, 10**9)}.{rng.randint(10**9, 2 * 10**9)}"]))
            if rng.random() < 0.2:
                parts.append("jwt=" + fake_jwt(rng, fake))
            h["cookie"] = "; ".join(parts)
        if self.header_gen is not None and rng.random() < 0.6:
            h.update({k.lower(): str(v) for k, v in self.header_gen(rng).items() if k.lower() != "user-agent"})
        return h

    def _signed_param(self, name: str) -> str:
        rng, fake = self.rng, self.vg.fake
        n = name.lower()
        if n in ("x-amz-security-token", "token", "access_token", "policy"):
            return opaque_credential(rng, fake, rng.choice(["session_token", "jwt_rs", "api_key"]) if n != "policy" else "policy")
        if n in ("x-amz-signature", "x-goog-signature"):
            return opaque_credential(rng, fake, "sig_hex")
        if n in ("x-amz-credential", "x-goog-credential"):
            return f"ASIA{fake.bothify('????????????????').upper()}/{rng.randint(2020, 2026)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}/us-east-1/s3/aws4_request"
        if n == "id_token":
            return opaque_credential(rng, fake, "jwt_rs")
        if n == "samlrequest":
            return opaque_credential(rng, fake, "saml")
        if n == "se":
            return f"{rng.randint(2024, 2027)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:00:00Z"
        if n == "sv":
            return rng.choice(["2021-08-06", "2022-11-02", "2023-11-03"])
        if n == "key-pair-id":
            return "K" + fake.bothify("?????????????").upper()
        if n in ("sig", "signature"):
            return opaque_credential(rng, fake, rng.choice(["sas_sig", "gcs_sig", "sig_b64"]))
        return opaque_credential(rng, fake, rng.choice(["oauth_code", "pkce", "fernet", "macaroon"]))

    @staticmethod
    def state_from_record(rec: dict) -> dict:
        """A recorded request as the builder's state, so payloads can be injected into real
        traffic: path, decoded query pairs, headers, and the body as JSON, form or raw text."""
        uri = rec["uri"]
        path, _, qs = uri.partition("?")
        query = [[k, v] for k, v in urllib.parse.parse_qsl(qs, keep_blank_values=True)]
        headers = {k.lower(): v for k, v in rec.get("headers", {}).items()}
        body = rec.get("body")
        ct = headers.get("content-type", "").lower()
        kind, obj = "", None
        if body:
            if "json" in ct:
                try:
                    obj, kind = json.loads(body), "json"
                except ValueError:
                    kind, obj = "raw", body
            elif "x-www-form-urlencoded" in ct:
                kind, obj = "form", dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            else:
                kind, obj = "raw", body
        path = path or "/"
        return {"method": rec.get("method", "GET"), "path": path, "segs": [i for i, s in enumerate(path.split("/")) if s],
                "query": query, "headers": headers, "body_kind": kind, "body_obj": obj}

    def build(self, ep: Endpoint) -> dict:
        """A benign request for `ep`, plus slot bookkeeping used to inject payloads."""
        rng = self.rng
        # What a client can send: no fragment, and the template's own text percent-encoded
        # (some specs have spaces or quotes in their paths).
        path = urllib.parse.quote((ep.path or "/").split("#", 1)[0], safe="/:@!$&'()*+,;=-._~%{}") or "/"
        slots = []
        for p in ep.path_params:
            val = self._scalar(p)
            path = path.replace("{" + p.name + "}", urllib.parse.quote(val, safe=""), 1)
        path = re.sub(r"\{[^}]*\}", lambda m: str(rng.randint(1, 99999)), path)
        if not path.startswith("/"):
            path = "/" + path
        seg_slots = [i for i, s in enumerate(path.split("/")) if s]
        query = []
        fixed = ep.extra_headers.get("_fixed_query")
        fixed_names = set()
        if fixed:
            params = {p.name: p for p in ep.path_params + ep.query}
            for part in fixed.split("&"):
                k, _, v = part.partition("=")
                templ = re.fullmatch(r"\{([^}]*)\}", v)
                if templ:
                    prm = params.get(templ.group(1))
                    v = self._scalar(prm) if prm else str(rng.randint(1, 99999))
                query.append([k, v])
                fixed_names.add(k)
        for p in ep.query:
            if p.name not in fixed_names and rng.random() < 0.75:
                query.append([p.name, self._scalar(p)])
        if rng.random() < 0.04:
            query.append([rng.choice(REDIRECT_PARAMS), benign_return_url(rng, self.vg.fake)])
        if rng.random() < 0.03:
            # signed URLs and sign-in callbacks: presigned GETs, OAuth/OIDC and SAML redirects
            for name in rng.choice([["X-Amz-Credential", "X-Amz-Security-Token", "X-Amz-Signature"], ["code", "state"], ["code", "state", "session_state"],
                                    ["id_token", "state"], ["SAMLRequest", "RelayState"], ["sig", "se", "sv"], ["token"], ["access_token"],
                                    ["Signature", "Key-Pair-Id", "Policy"], ["X-Goog-Credential", "X-Goog-Signature"]]):
                query.append([name, self._signed_param(name)])
        headers = self.headers()
        for k, v in ep.extra_headers.items():
            if not k.startswith("_"):
                headers[k] = v
        for p in ep.headers[:3]:
            if rng.random() < 0.5:
                headers[p.name.lower()] = self._scalar(p)[:200]
        body_obj = None
        if rng.random() < 0.015 or (ep.body_kind == "form" and rng.random() < 0.25):
            # uploads: presigned POST forms and API uploads with metadata, as multipart/form-data
            fields, file_part = upload_form(rng, self.vg.fake)
            if ep.body_kind == "form" and ep.body_schema is not None and rng.random() < 0.5:
                obj = self.vg.by_schema("body", ep.body_schema)
                fields = list(_flatten_form(obj if isinstance(obj, dict) else {"value": obj}).items())
            method = ep.method if ep.method in ("POST", "PUT", "PATCH") else "POST"
            return {"method": method, "path": path, "segs": seg_slots, "query": query, "headers": headers,
                    "body_kind": "multipart", "body_obj": {"fields": [[k, str(v)] for k, v in fields],
                                                           "file": file_part and [*file_part[:3], base64.b64encode(file_part[3]).decode()]}}
        if ep.body_kind and ep.body_schema is not None:
            body_obj = self.vg.by_schema("body", ep.body_schema)
            if ep.body_kind == "form" and not isinstance(body_obj, dict):
                body_obj = {"value": body_obj}
            if ep.body_kind == "form":
                body_obj = _flatten_form(body_obj)
        return {"method": ep.method, "path": path, "segs": seg_slots, "query": query, "headers": headers,
                "body_kind": ep.body_kind if body_obj is not None else "", "body_obj": body_obj}

    @staticmethod
    def render(st: dict, enc_rng: random.Random, raw_query: list | None = None) -> dict:
        q = raw_query if raw_query is not None else [[urllib.parse.quote_plus(k, safe="[]$"), urllib.parse.quote_plus(str(v), safe="")] for k, v in st["query"]]
        uri = st["path"] + ("?" + "&".join(f"{k}={v}" for k, v in q) if q else "")
        # raw CR, LF or NUL cannot travel in a header value (attacks aimed at headers are encoded in inject)
        rec = {"method": st["method"], "uri": uri, "headers": {k: _HEADER_UNSENDABLE.sub(" ", str(v)) for k, v in st["headers"].items()}}
        bk, bo = st["body_kind"], st["body_obj"]
        if bk == "json":
            rec["body"] = json.dumps(bo, ensure_ascii=enc_rng.random() < 0.3)
            rec["headers"].setdefault("content-type", "application/json")
        elif bk == "form":
            rec["body"] = "&".join(f"{urllib.parse.quote_plus(str(k), safe='[]$')}={v if st.get('form_raw', {}).get(k) else urllib.parse.quote_plus(str(v), safe='')}" for k, v in bo.items())
            rec["headers"]["content-type"] = "application/x-www-form-urlencoded"
        elif bk == "xml":
            rec["body"] = bo if isinstance(bo, str) else '<?xml version="1.0" encoding="UTF-8"?>' + _xml_from(bo)
            rec["headers"]["content-type"] = rng_choice(enc_rng, ["application/xml", "text/xml"])
        elif bk == "raw" and bo:
            rec["body"] = bo
        elif bk == "multipart":
            boundary = rng_choice(enc_rng, ["----WebKitFormBoundary", "----formdata-undici-0", "------------------------", ""]) + \
                "".join(rng_choice(enc_rng, list("0123456789abcdefABCDEFGHIJKLMNOP")) for _ in range(16))
            out = b""
            for k, v in bo["fields"]:
                out += f"--{boundary}\r\n{_part_head(k)}{v}\r\n".encode()
            if bo.get("file"):
                name, fname, ctype, content = bo["file"]
                out += f"--{boundary}\r\n{_part_head(name, fname, ctype)}".encode() + base64.b64decode(content) + b"\r\n"
            out += f"--{boundary}--\r\n".encode()
            try:
                rec["body"] = out.decode("utf-8")
            except UnicodeDecodeError:
                rec["body_base64"] = base64.b64encode(out).decode()
            rec["headers"]["content-type"] = f"multipart/form-data; boundary={boundary}"
        return rec

    # -- attacks
    def inject(self, st: dict, p: Payload) -> tuple[dict, str]:
        """Put payload `p` into one slot of benign request state `st`; returns (record, target)."""
        rng = self.rng
        text = p.text
        hint = p.hint
        kinds = []
        if hint == "xml_body":
            kinds = ["xml_body"] * 6 + ["query", "json", "form"]
        elif hint == "header":
            kinds = ["header"] * 5 + ["cookie", "query", "json"]
        elif hint == "cookie":
            kinds = ["cookie"] * 3 + ["header", "json", "query", "form"]
        elif hint == "redirect":
            kinds = ["query"] * 6 + ["json"] * 2 + ["form", "cookie"]
        else:
            kinds = ["query"] * 5 + ["json"] * 4 + ["form"] * 2 + ["path"] * (3 if hint == "file" else 2) + ["header", "cookie"]
            # benign uploads are multipart too (presigned forms, metadata fields): attacks in a part's
            # value, name or file name must weigh as much
            kinds += ["query_key", "json_key", "cookie_name", "multipart", "multipart", "multipart"]
            if p.label in ("sqli", "xss", "cmdi", "path_traversal"):
                kinds += ["path"]
        kind = rng.choice(kinds)
        if kind == "path" and ("\n" in text or "\r" in text) and p.label != "crlf":
            kind = "query"
        if hint == "url":
            names = URL_PARAMS
        elif hint == "redirect":
            names = REDIRECT_PARAMS
        elif hint == "file":
            names = FILE_PARAMS
        else:
            names = ANY_PARAMS
        # append to an original value for injections that extend a value
        def maybe_append(orig: str) -> str:
            if p.label in ("sqli", "cmdi") and p.source != "sqlmap" and rng.random() < 0.3 and orig and len(orig) < 40:
                return orig + text
            return text

        st = json.loads(json.dumps(st))  # deep copy
        target = ""
        raw_query = None
        if kind in ("query_key", "json_key", "cookie_name", "multipart"):
            rec, target = self._inject_name(st, p, kind, names)
            if rec is not None:
                return rec, target
            kind = "query"
        if kind == "query":
            q = st["query"]
            if q and rng.random() < 0.5:
                i = rng.randrange(len(q))
            else:
                q.insert(rng.randint(0, len(q)), [rng.choice(names), ""])
                i = next(j for j, kv in enumerate(q) if kv[1] == "")
            name = q[i][0]
            if p.label == "nosqli" and p.family.endswith("op-inline"):
                key = name + text.split("=", 1)[0]
                val = text.split("=", 1)[1] if "=" in text else "1"
                raw_query = [[urllib.parse.quote_plus(k, safe="[]$"), urllib.parse.quote_plus(str(v), safe="")] for k, v in q]
                raw_query[i] = [urllib.parse.quote(key, safe="[]$") if rng.random() < 0.6 else urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(val, safe="")]
                target = f"query:{key}#key"
            else:
                q[i][1] = maybe_append(q[i][1])
                raw_query = [[urllib.parse.quote_plus(k, safe="[]$"), urllib.parse.quote_plus(str(v), safe="")] for k, v in q]
                raw_query[i][1] = _enc(rng, q[i][1])
                target = f"query:{name}"
            return self.render(st, rng, raw_query), target
        if kind == "path":
            segs = st["path"].split("/")
            idx = [i for i, s in enumerate(segs) if s]
            if idx and rng.random() < 0.6:
                i = rng.choice(idx[1:] or idx)
                segs[i] = _enc(rng, maybe_append(urllib.parse.unquote(segs[i])))
            else:
                segs.append(_enc(rng, text))
            st["path"] = "/".join(segs)
            return self.render(st, rng), "path"
        if kind == "header":
            h = rng.choice(["user-agent", "user-agent", "referer", "x-forwarded-for", "x-api-version", "origin", "x-forwarded-host"]
                           + ["custom"] * 3)
            if h == "custom":  # the filter scores every header but credentials and tracing
                word = re.sub(r"[^a-z0-9]", "", self.vg.fake.word().lower()) or "app"  # header names are ASCII tokens
                h = rng.choice(CUSTOM_HEADERS + [f"x-{word}", f"x-{word}-id"])
            if "\n" in text or "\r" in text:
                text_h = urllib.parse.quote(text, safe=":/ ;=,'\"()<>$@{}")  # raw CR/LF cannot travel in a header
            else:
                text_h = text
            if h == "user-agent" and rng.random() < 0.3:
                text_h = rng.choice(self.uas) + " " + text_h
            st["headers"][h] = text_h
            return self.render(st, rng), f"header:{h}"
        if kind == "cookie":
            name = rng.choice(["session", "prefs", "user", "lang", "tracking", "auth", "remember_me", "cart"])
            enc = urllib.parse.quote(text, safe="") if rng.random() < 0.7 else text.replace(";", "%3B").replace("\n", "%0A").replace("\r", "%0D")
            existing = st["headers"].get("cookie", "")
            existing = "; ".join(c for c in existing.split("; ") if c and not c.startswith(name + "="))
            st["headers"]["cookie"] = (existing + "; " if existing else "") + f"{name}={enc}"
            return self.render(st, rng), f"cookie:{name}"
        if kind == "xml_body":
            st["method"] = "POST" if st["method"] == "GET" else st["method"]
            st["body_kind"], st["body_obj"] = "xml", text
            return self.render(st, rng), "body"
        if kind == "form":
            st["method"] = "POST" if st["method"] in ("GET", "DELETE") else st["method"]
            if st["body_kind"] != "form":
                st["body_kind"], st["body_obj"] = "form", {n: str(self.vg.by_name(n)) for n in rng.sample(ANY_PARAMS, rng.randint(1, 3))}
            bo = st["body_obj"]
            name = rng.choice(list(bo)) if bo and rng.random() < 0.5 else rng.choice(names)
            bo[name] = maybe_append(str(bo.get(name, "")))
            rec = self.render(st, rng)
            # re-encode the injected field with a varied client encoding
            parts = rec["body"].split("&")
            key = urllib.parse.quote_plus(name, safe="[]$")
            for j, part in enumerate(parts):
                if part.split("=", 1)[0] == key:
                    parts[j] = f"{key}={_enc(rng, bo[name], form=True)}"
            rec["body"] = "&".join(parts)
            return rec, f"form:{name}"
        # json
        st["method"] = "POST" if st["method"] in ("GET", "DELETE") else st["method"]
        if st["body_kind"] != "json" or not isinstance(st["body_obj"], (dict, list)):
            st["body_kind"], st["body_obj"] = "json", {n: self.vg.by_name(n) for n in rng.sample(ANY_PARAMS, rng.randint(1, 4))}
            if rng.random() < 0.3:
                st["body_obj"] = {rng.choice(["data", "user", "item", "filter", "attributes"]): st["body_obj"]}
        doc = st["body_obj"]
        leaves = list(_json_leaves(doc))
        if leaves and rng.random() < 0.6:
            path = rng.choice(leaves)
        else:
            container = doc if isinstance(doc, dict) else {}
            if isinstance(doc, dict):
                subs = [k for k, v in doc.items() if isinstance(v, dict)]
                if subs and rng.random() < 0.5:
                    k = rng.choice(subs)
                    container, path = doc[k], [k]
                else:
                    path = []
            else:
                st["body_obj"] = doc = {"items": doc}
                container, path = doc, []
            n = rng.choice(names)
            container[n] = ""
            path = path + [n]
        if p.label == "nosqli" and p.family.endswith("op-json"):
            try:
                obj = json.loads(text)
            except ValueError:
                obj = None
            if isinstance(obj, dict) and obj and rng.random() < 0.7:
                _set_path(doc, path, obj)
                rec = self.render(st, rng)
                # The extractor scores an object with operator keys whole, at the object's path.
                return rec, self._json_target(rec, f"json:{_json_loc(path)}")
        orig = None
        try:
            cur = doc
            for k in path:
                cur = cur[k]
            orig = cur
        except (KeyError, IndexError, TypeError):
            pass
        _set_path(doc, path, maybe_append(str(orig)) if isinstance(orig, str) else text)
        rec = self.render(st, rng)
        return rec, self._json_target(rec, f"json:{_json_loc(path)}")

    def _inject_name(self, st: dict, p: Payload, kind: str, names: list) -> tuple[dict | None, str | None]:
        """Payloads where attackers put them besides values: a query parameter, JSON key or
        cookie name, or a multipart part (its value, its name or its file name). The target is
        left to payload matching (None) where the extractor names the location after the payload."""
        rng, text = self.rng, p.text
        if "\n" in text or "\r" in text or len(text) > 300:
            return None, None
        if kind == "query_key":
            raw_query = [[urllib.parse.quote_plus(k, safe="[]$"), urllib.parse.quote_plus(str(v), safe="")] for k, v in st["query"]]
            raw_query.insert(rng.randint(0, len(raw_query)), [_enc(rng, text), rng.choice(["1", "true", "", "x"])])
            return self.render(st, rng, raw_query), None
        if kind == "cookie_name":
            existing = st["headers"].get("cookie", "")
            name = urllib.parse.quote(text, safe="") if rng.random() < 0.8 else text.replace(";", "%3B").replace("=", "%3D")
            st["headers"]["cookie"] = (existing + "; " if existing else "") + f"{name}={rng.choice(['1', 'yes', _b64(rng, 12)])}"
            return self.render(st, rng), None
        if kind == "json_key":
            st["method"] = "POST" if st["method"] in ("GET", "DELETE") else st["method"]
            if st["body_kind"] != "json" or not isinstance(st["body_obj"], dict):
                st["body_kind"], st["body_obj"] = "json", {n: self.vg.by_name(n) for n in rng.sample(ANY_PARAMS, rng.randint(1, 3))}
            st["body_obj"][text] = rng.choice([1, "x", True, {"a": 1}])
            return self.render(st, rng), None
        # multipart
        st["method"] = "POST" if st["method"] in ("GET", "DELETE") else st["method"]
        boundary = "----apiward" + _b64(rng, 12).replace("/", "x").replace("+", "y").replace("=", "")
        fields = [(n, str(self.vg.by_name(n))) for n in rng.sample(ANY_PARAMS, rng.randint(1, 3))]
        if rng.random() < 0.35:
            # the fields of a real upload form (presigned policy, session token, checksums) around it
            fields = upload_form(rng, self.vg.fake)[0][:7]
        where = rng.choice(["value", "value", "name", "filename"])
        parts, target = [], None
        for n, v in fields:
            parts.append(_part_head(n) + v)
        field = rng.choice(names)
        fname = rng.choice(["report.pdf", "avatar.png", "data.csv", "notes.txt"])
        safe = text.replace('"', "%22")
        if where == "value":
            parts.append(_part_head(field) + text)
            target = f"multipart:{field}"
        elif where == "name":
            parts.append(_part_head(safe) + rng.choice(["1", "on", "x"]))
        else:
            parts.append(_part_head("file", safe, "application/octet-stream") + _b64(rng, 24))
        rng.shuffle(parts)
        body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
        st["body_kind"], st["body_obj"] = "", None
        rec = self.render(st, rng)
        rec["body"] = body
        rec["headers"]["content-type"] = f"multipart/form-data; boundary={boundary}"
        return rec, target

    @staticmethod
    def _json_target(rec: dict, target: str) -> str:
        ct = rec["headers"].get("content-type", "").split(";")[0].strip().lower()
        if "json" in ct:  # the extractor flattens every JSON media type (incl. x-amz-json-1.1)
            return target
        return "body"


def _part_head(name: str, filename: str | None = None, ctype: str | None = None) -> str:
    """The headers of one multipart/form-data part, up to and including the blank line."""
    if filename is None:
        return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
    return f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'


def benign_return_url(rng: random.Random, fake) -> str:
    """Where real clients ask to be sent back to: loopback callbacks of native apps (RFC 8252),
    dev servers, intranet apps and their own public front ends."""
    host = rng.choice(["localhost", "127.0.0.1", "[::1]", f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                       f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "intranet.corp.local", fake.domain_name(), fake.domain_name()])
    port = rng.choice(["", "", f":{rng.choice([3000, 4200, 5173, 8000, 8080, 8443, rng.randint(1024, 65535)])}"])
    path = rng.choice(["/callback", "/oauth/callback", "/auth/redirect", "/", "/cart", "/dashboard?tab=billing", "/login/return"])
    url = f"{rng.choice(['http', 'https'])}://{host}{port}{path}"
    return url if rng.random() < 0.8 else path


def _flatten_form(obj, prefix: str = "") -> dict:
    """Nested values as clients send them in forms: `a[b][0]=x` (Rails/PHP/Stripe style)."""
    out = {}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        key = f"{prefix}[{k}]" if prefix else str(k)
        if isinstance(v, (dict, list)) and v:
            out.update(_flatten_form(v, key))
        elif isinstance(v, bool):
            out[key] = "true" if v else "false"
        elif v is None or isinstance(v, (dict, list)):
            out[key] = ""
        else:
            out[key] = str(v)
    return out


def rng_choice(rng: random.Random, xs: list):
    return xs[rng.randrange(len(xs))]
