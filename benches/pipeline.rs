//! Native cost of the request path by payload size (`make bench-native`, criterion):
//! decode one value, inspect + features of a whole request, model run, and the whole evaluation;
//! the restricted-resource probes' check of a path; the name check every parameter, cookie and
//! JSON key pays; the XML scan of a SOAP body.
//! The filter runs the same code compiled to Wasm, where V8 takes roughly 1.5–2× as long.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use apiward::config::Config;
use apiward::corpus::RequestRecord;
use apiward::engine::{request_rows, Engine};
use apiward::model::{
    MlpScorer, ModelMetadata, Scorer, TractScorer, EMBEDDED_METADATA, EMBEDDED_ONNX,
};
use apiward::request::RequestView;

/// A benign JSON order of about `bytes` bytes: nested objects, strings, numbers, a list.
fn order_json(bytes: usize) -> String {
    let mut items = Vec::new();
    let mut i = 0;
    loop {
        let body = serde_json::json!({
            "customer": {"id": "c-10293", "name": "Alice Martin", "email": "alice.martin@example.com",
                         "address": {"street": "12 rue des Lilas", "city": "Lyon", "zip": "69003"}},
            "items": items,
            "currency": "EUR",
            "note": "Leave the parcel at the front desk, please.",
        })
        .to_string();
        if body.len() >= bytes {
            return body;
        }
        items.push(serde_json::json!({"sku": format!("SKU-{i:05}"), "qty": i % 5 + 1,
                                      "price": 19.99 + i as f64, "title": format!("Blue cotton shirt, size {}", ["S", "M", "L"][i % 3])}));
        i += 1;
    }
}

fn record(body: Option<String>) -> RequestRecord {
    let mut line = serde_json::json!({
        "method": if body.is_some() { "POST" } else { "GET" },
        "uri": "/api/v2/orders?status=open&page=2&sort=-created_at",
        "headers": {"content-type": "application/json", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTQyIn0.c2lnbmF0dXJl"},
    });
    if let Some(b) = body {
        line["body"] = b.into();
    }
    RequestRecord::from_json(&line.to_string()).unwrap()
}

fn payloads() -> Vec<(&'static str, RequestRecord)> {
    vec![
        ("get", record(None)),
        ("json_1k", record(Some(order_json(1024)))),
        ("json_10k", record(Some(order_json(10 * 1024)))),
        ("json_100k", record(Some(order_json(100 * 1024)))),
    ]
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new(Config::from_json(br#"{"mode":"enforce"}"#).unwrap()).unwrap();
    let metadata = ModelMetadata::from_json(EMBEDDED_METADATA).unwrap();
    let classes = metadata.classes.len();
    // What the filter runs, and tract's graph of the same MLP (the runtime before issue 12).
    let scorer = MlpScorer::embedded(metadata.clone()).unwrap();
    let tract = TractScorer::load(EMBEDDED_ONNX, metadata).unwrap();
    let opts = engine.inspect_options();

    let mut g = c.benchmark_group("decode");
    for text in [
        "Alice Martin",
        "%253Cscript%253Ealert(1)%253C%252Fscript%253E",
        &"a%20b&amp;c ".repeat(200),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(text.len()), text, |b, t| {
            b.iter(|| apiward::decode::normalize(black_box(t)))
        });
    }
    g.finish();

    for (name, rec) in payloads() {
        let view = rec.to_view(engine.config().max_body_bytes).unwrap();
        let policy = engine.route(&view.path);
        let rows = request_rows(&view, &opts);
        let bytes = rec.body.as_ref().map_or(rec.uri.len(), String::len) as u64;
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function("inspect+features", |b| {
            b.iter(|| request_rows(black_box(&view), &opts))
        });
        let mut out = vec![0f32; rows.rows.len() * classes];
        g.bench_function(format!("model ({} rows)", rows.rows.len()), |b| {
            b.iter(|| scorer.score_into(black_box(&rows.rows), &mut out).unwrap())
        });
        g.bench_function(format!("model tract ({} rows)", rows.rows.len()), |b| {
            b.iter(|| tract.score(black_box(&rows.rows)).unwrap())
        });
        g.bench_function("evaluate", |b| {
            b.iter(|| engine.evaluate(black_box(&view), &policy).unwrap())
        });
        g.finish();
    }
}

/// A GET as a current SDK sends it: the SDK's own headers (retry count, runtime, package
/// version), tracing, caching and content negotiation, besides the credential.
fn sdk_get() -> RequestRecord {
    let line = serde_json::json!({
        "method": "GET",
        "uri": "/v1/models?limit=20",
        "headers": [
            ["user-agent", "Anthropic/Python 0.52.0"], ["accept", "application/json"],
            ["accept-encoding", "gzip, deflate, zstd"], ["authorization", "Bearer sk-test-0123456789abcdef"],
            ["anthropic-version", "2023-06-01"], ["x-stainless-lang", "python"],
            ["x-stainless-package-version", "0.52.0"], ["x-stainless-os", "Linux"],
            ["x-stainless-arch", "x64"], ["x-stainless-runtime", "CPython"],
            ["x-stainless-runtime-version", "3.12.4"], ["x-stainless-retry-count", "0"],
            ["x-stainless-read-timeout", "600"], ["x-request-id", "req_01HZX3Q4T5V6W7X8Y9Z0A1B2C3"],
            ["traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
            ["if-none-match", "W/\"5f3c-1a2b3c4d\""], ["prefer", "return=minimal"],
            ["x-tenant", "acme-eu-1"], ["x-client-version", "web/4.12.3 (build 8812)"],
        ],
    });
    RequestRecord::from_json(&line.to_string()).unwrap()
}

/// What scoring every request header (`inspect_other_headers`, default on since feature
/// schema 8) costs against scoring only the named ones: the same SDK request, inspection and
/// features, and the whole evaluation with the per-VM score cache off (every value scored
/// afresh, the cost of a value the cache has not seen) and on (a client's repeated headers).
fn bench_header_scope(c: &mut Criterion) {
    let rec = sdk_get();
    let mut g = c.benchmark_group("sdk_get_headers");
    for (name, extra) in [("named", r#","inspect_other_headers":false"#), ("all", "")] {
        for (cache, entries) in [("uncached", 0), ("cached", 4096)] {
            let cfg = format!(r#"{{"mode":"enforce","score_cache_entries":{entries}{extra}}}"#);
            let engine = Engine::new(Config::from_json(cfg.as_bytes()).unwrap()).unwrap();
            let view = rec.to_view(engine.config().max_body_bytes).unwrap();
            let policy = engine.route(&view.path);
            if entries == 0 {
                let opts = engine.inspect_options();
                let rows = request_rows(&view, &opts).rows.len();
                g.bench_function(format!("{name}: inspect+features ({rows} rows)"), |b| {
                    b.iter(|| request_rows(black_box(&view), &opts))
                });
            }
            g.bench_function(format!("{name}: evaluate {cache}"), |b| {
                b.iter(|| engine.evaluate(black_box(&view), &policy).unwrap())
            });
        }
    }
    g.finish();
}

/// Restricted-resource probes: the check every inspected request pays on its path (REST paths
/// that match nothing, plain and percent-encoded), and a probe.
fn bench_probes(c: &mut Criterion) {
    let probes = apiward::probes::Probes::default();
    let mut g = c.benchmark_group("probes");
    for (name, path) in [
        (
            "rest",
            "/api/v2/orders/8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60/items",
        ),
        ("rest_file", "/v1/files/reports/2024/q1-summary.pdf"),
        (
            "rest_encoded",
            "/v1/objects/uploads%2F2024%2Fq1%20summary.pdf",
        ),
        ("probe", "/static/.git/config"),
    ] {
        g.bench_function(name, |b| b.iter(|| probes.check(black_box(path)).is_some()));
    }
    // The upload check: what a JSON POST pays (its headers are looked at, nothing found), and a
    // 64 KiB photo upload after two form fields (part headers found in binary bytes, then its
    // file name checked).
    let upload = |view: &RequestView| {
        view.uploaded_file_names()
            .into_iter()
            .any(|(_, name)| probes.check_upload(&name).is_some())
    };
    let mut json = RequestView::new("POST", b"/api/v2/orders");
    json.headers = vec![
        ("content-type".into(), b"application/json".to_vec()),
        ("user-agent".into(), b"okhttp/4.12.0".to_vec()),
        (
            "authorization".into(),
            b"Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln".to_vec(),
        ),
    ];
    json.body = br#"{"sku":"A-1","qty":2,"note":"gift wrap"}"#.to_vec();
    g.bench_function("upload_none", |b| b.iter(|| upload(black_box(&json))));
    let mut photo = RequestView::new("POST", b"/api/v2/users/42/avatar");
    photo.headers = vec![(
        "content-type".into(),
        b"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW".to_vec(),
    )];
    let boundary = b"------WebKitFormBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in [("title", "me"), ("visibility", "friends")] {
        body.extend_from_slice(boundary);
        body.extend_from_slice(
            format!("\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(boundary);
    body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"IMG_2041.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
    body.extend((0..65_536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(boundary);
    body.extend_from_slice(b"--\r\n");
    photo.body = body;
    g.bench_function("upload_photo_64k", |b| b.iter(|| upload(black_box(&photo))));
    g.finish();
}

/// The check a name pays before it is left unscored ([`apiward::features::name_is_inert`]), the
/// XML scan of a SOAP envelope (text nodes and attributes, [`apiward::decode::xml::values`]),
/// and the GraphQL scan of a query's string arguments ([`apiward::decode::graphql::strings`]).
fn bench_names_and_xml(c: &mut Criterion) {
    let mut g = c.benchmark_group("names");
    for (name, key) in [
        ("short", "limit"),
        ("snake", "include_deleted_items"),
        ("bracket", "filter[created_at][gte]"),
        ("dotted", "page.size"),
        ("prototype", "__proto__[isAdmin]"),
        ("java_class", "java.lang.Runtime"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| apiward::features::name_is_inert(black_box(key)))
        });
    }
    g.finish();
    let soap = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ord="urn:example:orders:v2">
  <soapenv:Header><ord:Auth><ord:Tenant>acme-eu</ord:Tenant></ord:Auth></soapenv:Header>
  <soapenv:Body><ord:CreateOrder>
    <ord:Customer id="C-1001"><ord:Name>Jane Doe</ord:Name><ord:Email>jane@example.com</ord:Email></ord:Customer>
    <ord:Items><ord:Item sku="SKU-1234" qty="2"/><ord:Item sku="SKU-9876" qty="1"/></ord:Items>
    <ord:Comment>Please deliver after 5pm, ring twice.</ord:Comment>
  </ord:CreateOrder></soapenv:Body>
</soapenv:Envelope>"#;
    let mut g = c.benchmark_group("xml");
    g.throughput(Throughput::Bytes(soap.len() as u64));
    g.bench_function("soap_values", |b| {
        b.iter(|| {
            apiward::decode::xml::values(black_box(soap), 4096, |_, v| {
                black_box(v);
            })
        })
    });
    g.finish();
    // A GraphQL query of 390 bytes: 9 string arguments in nested selections.
    let query = r#"query Dashboard($first: Int = 20) {
  viewer { login name avatarUrl(size: "64") }
  orders(first: $first, status: "open", customer: "Jane Doe", filter: {region: "eu-west", tag: "gift"}) {
    edges { node { id total(currency: "EUR") createdAt items { sku qty note } } }
    pageInfo { hasNextPage endCursor }
  }
  search(query: "blue shoes", type: "PRODUCT", sort: "relevance") { count }
}"#;
    let mut g = c.benchmark_group("graphql");
    g.throughput(Throughput::Bytes(query.len() as u64));
    g.bench_function("query_9_args", |b| {
        b.iter(|| {
            apiward::decode::graphql::looks_like(black_box(query))
                && apiward::decode::graphql::strings(black_box(query), 1024, |_, v| {
                    black_box(v);
                }) > 0
        })
    });
    g.finish();
}

/// What the encodings and the value rules cost: the mail check on a value with no line break
/// and on five lines of text; the PHP check on a plain value and on a sentence; inspection of a GET whose cursor is base64 text and of one whose
/// ids only look like base64; a 1 KB JSON body sent as UTF-8, as UTF-16 and as EBCDIC.
fn bench_encodings(c: &mut Criterion) {
    let probes = apiward::probes::Probes::default();
    let engine = Engine::new(Config::from_json(br#"{"mode":"enforce"}"#).unwrap()).unwrap();
    let opts = engine.inspect_options();
    let mut g = c.benchmark_group("encodings");
    g.bench_function("mail_none", |b| {
        b.iter(|| probes.check_mail(black_box("Jane Doe")).is_some())
    });
    let text = "Hi team,\nthe order below never arrived.\nTracking: 1Z999AA10123456784\n\
                Could you check with the carrier?\nThanks, Jane";
    g.bench_function("mail_text_5_lines", |b| {
        b.iter(|| probes.check_mail(black_box(text)).is_some())
    });
    // The PHP rule on a plain value, on a sentence with `=` and `(`, and on a JSON-ish value.
    g.bench_function("php_none", |b| {
        b.iter(|| probes.check_php(black_box("Jane Doe")).is_some())
    });
    let sentence = "Total (incl. VAT) = 42.10 EUR; see invoice_2024_05 for details, ref=A-1";
    g.bench_function("php_sentence", |b| {
        b.iter(|| probes.check_php(black_box(sentence)).is_some())
    });
    let inspect = |view: &RequestView| view.inspected_values(&opts).0.len();
    let cursor = RequestView::new(
        "GET",
        b"/v1/orders?limit=50&cursor=eyJpZCI6IDQ4MjE5LCAic29ydCI6ICJjcmVhdGVkX2F0In0&after=b3JkZXI6NDgyMTk6MjAyNC0wNS0wMQ",
    );
    g.bench_function("get_base64_text_cursor", |b| {
        b.iter(|| inspect(black_box(&cursor)))
    });
    let ids = RequestView::new(
        "GET",
        b"/v1/orders?customer=cus_9s6XKzkNRiz8i3&session=550e8400e29b41d4a716446655440000&etag=d41d8cd98f00b204e9800998ecf8427e",
    );
    g.bench_function("get_ids_like_base64", |b| {
        b.iter(|| inspect(black_box(&ids)))
    });
    let doc = serde_json::json!({
        "customer": {"name": "Zoë Müller", "email": "zoe@example.com", "tier": "gold"},
        "items": (0..12).map(|i| serde_json::json!({"sku": format!("SKU-{i:04}"), "qty": i % 3 + 1,
            "note": "gift wrap, please"})).collect::<Vec<_>>(),
    })
    .to_string();
    let body = |ctype: &str, bytes: Vec<u8>| {
        let mut v = RequestView::new("POST", b"/v1/orders");
        v.headers = vec![("content-type".into(), ctype.as_bytes().to_vec())];
        v.body = bytes;
        v
    };
    let utf8 = body("application/json", doc.clone().into_bytes());
    let utf16 = body(
        "application/json",
        doc.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    );
    let table = &apiward::decode::ebcdic::IBM037;
    let ebcdic = body(
        "application/json; charset=ibm037",
        doc.chars()
            .map(|c| {
                let i = table.iter().position(|&u| u32::from(u) == u32::from(c));
                i.and_then(|i| u8::try_from(i).ok()).unwrap_or(0x6F)
            })
            .collect(),
    );
    g.throughput(Throughput::Bytes(doc.len() as u64));
    for (name, view) in [
        ("json_utf8", &utf8),
        ("json_utf16", &utf16),
        ("json_ebcdic", &ebcdic),
    ] {
        g.bench_function(name, |b| b.iter(|| inspect(black_box(view))));
    }
    g.finish();
}

criterion_group!(
    benches,
    bench,
    bench_header_scope,
    bench_probes,
    bench_names_and_xml,
    bench_encodings
);
criterion_main!(benches);
