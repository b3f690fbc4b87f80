//! Requests as JSON lines: the input format of the CLI (`score`, `eval`, `featurize`).

use base64::Engine as _;
use serde::Deserialize;

use crate::request::RequestView;

/// Headers as an object (`{"name": "value"}`) or a list of pairs (repeats allowed).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RecordHeaders {
    /// `{"user-agent": "curl"}`.
    Map(serde_json::Map<String, serde_json::Value>),
    /// `[["cookie", "a=1"], ["cookie", "b=2"]]`.
    List(Vec<(String, String)>),
}

/// One request line: `{"method", "uri", "headers", "body"}` plus optional labels for training.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestRecord {
    /// HTTP method (default GET).
    #[serde(default = "default_method")]
    pub method: String,
    /// Request target: path and query.
    pub uri: String,
    /// Request headers.
    #[serde(default)]
    pub headers: Option<RecordHeaders>,
    /// Body as text.
    #[serde(default)]
    pub body: Option<String>,
    /// Body as base64 (binary bodies).
    #[serde(default)]
    pub body_base64: Option<String>,
    /// Client address as the proxy would see it.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// Class label (training and evaluation).
    #[serde(default)]
    pub label: Option<String>,
    /// Location key of the injected value (`query:id`), for row labels.
    #[serde(default)]
    pub target: Option<String>,
    /// The injected payload, for row labels when `target` is absent.
    #[serde(default)]
    pub payload: Option<String>,
}

fn default_method() -> String {
    "GET".to_string()
}

impl RequestRecord {
    /// Parses one JSON line.
    pub fn from_json(line: &str) -> Result<RequestRecord, String> {
        serde_json::from_str(line).map_err(|e| e.to_string())
    }

    /// The request as the filter would see it, with the body cut at `max_body_bytes`.
    pub fn to_view(&self, max_body_bytes: usize) -> Result<RequestView, String> {
        let mut view = RequestView::new(&self.method, self.uri.as_bytes());
        match &self.headers {
            Some(RecordHeaders::Map(map)) => {
                for (k, v) in map {
                    let value = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    view.headers
                        .push((k.to_ascii_lowercase(), value.into_bytes()));
                }
            }
            Some(RecordHeaders::List(list)) => {
                for (k, v) in list {
                    view.headers
                        .push((k.to_ascii_lowercase(), v.clone().into_bytes()));
                }
            }
            None => {}
        }
        let mut body = match (&self.body, &self.body_base64) {
            (_, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("body_base64: {e}"))?,
            (Some(text), None) => text.clone().into_bytes(),
            (None, None) => Vec::new(),
        };
        if body.len() > max_body_bytes {
            body.truncate(max_body_bytes);
            view.body_truncated = true;
        }
        view.body = body;
        view.client.ip = self.client_ip.clone();
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_as_map_or_list_and_truncated_body() {
        let r = RequestRecord::from_json(
            r#"{"uri":"/a?b=1","headers":{"Content-Type":"application/json"},"body":"0123456789"}"#,
        )
        .unwrap();
        let v = r.to_view(4).unwrap();
        assert_eq!(v.method, "GET");
        assert_eq!(v.header("content-type"), Some(&b"application/json"[..]));
        assert_eq!(v.body, b"0123");
        assert!(v.body_truncated);
        let r = RequestRecord::from_json(r#"{"method":"post","uri":"/","headers":[["cookie","a=1"],["cookie","b=2"]],"body_base64":"AAE="}"#).unwrap();
        let v = r.to_view(100).unwrap();
        assert_eq!(v.headers.len(), 2);
        assert_eq!(v.body, vec![0, 1]);
        assert!(RequestRecord::from_json(r#"{"method":"GET"}"#).is_err());
    }
}
