//! The tenant's HTTP face on 127.0.0.1: Entra-shaped discovery and key documents, plus a small
//! control surface under `/_mock/` for tests (mint, counters, failure modes, key publication).

use crate::mint::MintRequest;
use crate::state::TenantState;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tiny_http::{Header, Method, Request, Response, Server};

/// How discovery and key requests are answered; tests switch it to simulate an Entra outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Ok,
    /// HTTP 500.
    Error,
    /// Answers after 15 s.
    Slow,
    /// Answers after 1.5 s: slow, but within the gateway's timeout.
    Delayed,
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with a 2 MiB body.
    Huge,
    /// 302 to another host.
    Redirect,
}

struct Shared {
    state: TenantState,
    mode: Mode,
    counts: BTreeMap<String, u64>,
}

pub struct MockServer {
    server: Arc<Server>,
    shared: Arc<Mutex<Shared>>,
    pub base_url: String,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn json_response(status: u16, body: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    let header = Header::from_bytes(
        &b"Content-Type"[..],
        &b"application/json; charset=utf-8"[..],
    );
    let response = Response::from_string(body.to_string()).with_status_code(status);
    match header {
        Ok(h) => response.with_header(h),
        Err(()) => response,
    }
}

fn text_response(status: u16, body: impl Into<String>) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body.into()).with_status_code(status)
}

impl MockServer {
    /// Binds 127.0.0.1:`port` (0 picks a free port).
    pub fn bind(state: TenantState, port: u16) -> Result<Self, String> {
        let server = Server::http(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or("not an IP listener")?;
        Ok(MockServer {
            server: Arc::new(server),
            shared: Arc::new(Mutex::new(Shared {
                state,
                mode: Mode::Ok,
                counts: BTreeMap::new(),
            })),
            base_url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Serves until the process ends; each request on its own thread so a slow answer never
    /// holds up the others.
    pub fn run(&self) {
        for request in self.server.incoming_requests() {
            let shared = Arc::clone(&self.shared);
            let base = self.base_url.clone();
            std::thread::spawn(move || handle(request, &shared, &base));
        }
    }
}

fn handle(mut request: Request, shared: &Mutex<Shared>, base: &str) {
    let (path, query) = match request.url().split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (request.url().to_owned(), None),
    };
    let method = request.method().clone();
    let mut body = String::new();
    if request
        .as_reader()
        .take(1 << 20)
        .read_to_string(&mut body)
        .is_err()
    {
        let _ = request.respond(text_response(400, "body is not UTF-8"));
        return;
    }
    if let Some(control) = path.strip_prefix("/_mock/") {
        let response = control_route(control, &method, &body, shared, base);
        let _ = request.respond(response);
        return;
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let document = match segments.as_slice() {
        [t, "v2.0", ".well-known", "openid-configuration"] => {
            Some(("metadata_v2", metadata(base, t, true)))
        }
        [t, ".well-known", "openid-configuration"] => {
            Some(("metadata_v1", metadata(base, t, false)))
        }
        [t, "discovery", "v2.0", "keys"] => Some(("keys_v2", keys(shared, base, t, true))),
        [t, "discovery", "keys"] => Some(("keys_v1", keys(shared, base, t, false))),
        _ => None,
    };
    let Some((kind, document)) = document else {
        let _ = request.respond(json_response(404, &json!({"error": "not_found"})));
        return;
    };
    let mode = {
        let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
        *shared.counts.entry(kind.to_owned()).or_default() += 1;
        *shared.counts.entry("total".to_owned()).or_default() += 1;
        // Apps with custom signing keys ask with ?appid=...; tests check it arrives.
        let appid = query
            .as_deref()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("appid=")));
        if let Some(appid) = appid {
            *shared.counts.entry(format!("appid={appid}")).or_default() += 1;
        }
        shared.mode
    };
    let response = match (mode, document) {
        (_, None) => json_response(400, &json!({"error": "invalid_tenant"})),
        (Mode::Ok, Some(doc)) => json_response(200, &doc),
        (Mode::Error, _) => json_response(500, &json!({"error": "server_error"})),
        (Mode::Slow, Some(doc)) => {
            std::thread::sleep(Duration::from_secs(15));
            json_response(200, &doc)
        }
        (Mode::Delayed, Some(doc)) => {
            std::thread::sleep(Duration::from_millis(1500));
            json_response(200, &doc)
        }
        (Mode::Garbage, _) => text_response(200, "<html>this is not json</html>"),
        (Mode::Huge, _) => {
            text_response(200, format!("{{\"keys\":[\"{}\"]}}", "A".repeat(2 << 20)))
        }
        (Mode::Redirect, _) => {
            let location =
                Header::from_bytes(&b"Location"[..], &b"https://attacker.example/keys"[..]);
            let response = text_response(302, "");
            match location {
                Ok(h) => response.with_header(h),
                Err(()) => response,
            }
        }
    };
    let _ = request.respond(response);
}

/// The `{tenantid}` template for multi-tenant segments, the GUID itself otherwise.
fn tenant_in_issuer(segment: &str) -> Option<String> {
    match segment {
        "organizations" | "common" => Some("{tenantid}".to_owned()),
        "consumers" => Some("9188040d-6c67-4c5b-b112-36a304b66dad".to_owned()),
        s if s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') => {
            Some(s.to_owned())
        }
        _ => None,
    }
}

fn metadata(base: &str, segment: &str, v2: bool) -> Option<Value> {
    let tenant = tenant_in_issuer(segment)?;
    Some(if v2 {
        json!({
            "issuer": format!("{base}/{tenant}/v2.0"),
            "jwks_uri": format!("{base}/{segment}/discovery/v2.0/keys"),
            "authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/authorize"),
            "token_endpoint": format!("{base}/{segment}/oauth2/v2.0/token"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "tenant_region_scope": "EU",
        })
    } else {
        json!({
            "issuer": format!("https://sts.windows.net/{tenant}/"),
            "jwks_uri": format!("{base}/{segment}/discovery/keys"),
            "authorization_endpoint": format!("{base}/{segment}/oauth2/authorize"),
            "token_endpoint": format!("{base}/{segment}/oauth2/token"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["pairwise"],
        })
    })
}

fn keys(shared: &Mutex<Shared>, base: &str, segment: &str, v2: bool) -> Option<Value> {
    let tenant = tenant_in_issuer(segment)?;
    let issuer = v2.then(|| format!("{base}/{tenant}/v2.0"));
    let shared = shared.lock().unwrap_or_else(|p| p.into_inner());
    let keys: Vec<Value> = shared
        .state
        .published()
        .map(|k| k.public_jwk(issuer.as_deref()))
        .collect();
    Some(json!({ "keys": keys }))
}

#[derive(Deserialize)]
struct Publish {
    kid: String,
    published: bool,
}

fn control_route(
    route: &str,
    method: &Method,
    body: &str,
    shared: &Mutex<Shared>,
    base: &str,
) -> Response<std::io::Cursor<Vec<u8>>> {
    let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
    match (method, route) {
        (Method::Post, "mint") => {
            let request: MintRequest =
                match serde_json::from_str(if body.is_empty() { "{}" } else { body }) {
                    Ok(r) => r,
                    Err(e) => return text_response(400, e.to_string()),
                };
            match shared.state.mint(&request, base, now()) {
                Ok(token) => text_response(200, token),
                Err(e) => text_response(400, e),
            }
        }
        (Method::Get, "stats") => json_response(
            200,
            &json!({ "counts": shared.counts, "mode": format!("{:?}", shared.mode) }),
        ),
        (Method::Post, "reset") => {
            shared.counts.clear();
            shared.mode = Mode::Ok;
            json_response(200, &json!({"ok": true}))
        }
        (Method::Post, "mode") => match serde_json::from_str::<Mode>(body) {
            Ok(mode) => {
                shared.mode = mode;
                json_response(200, &json!({"ok": true}))
            }
            Err(e) => text_response(400, e.to_string()),
        },
        (Method::Post, "publish") => match serde_json::from_str::<Publish>(body) {
            Ok(p) => match shared.state.keys.iter_mut().find(|k| k.key.kid == p.kid) {
                Some(k) => {
                    k.published = p.published;
                    json_response(200, &json!({"ok": true}))
                }
                None => text_response(404, format!("no key {:?}", p.kid)),
            },
            Err(e) => text_response(400, e.to_string()),
        },
        (Method::Get, "tenant") => json_response(
            200,
            &json!({
                "tenant_id": shared.state.tenant_id,
                "authority": base,
                "kids": shared.state.keys.iter().map(|k| json!({"kid": k.key.kid, "published": k.published})).collect::<Vec<_>>(),
            }),
        ),
        _ => text_response(404, "unknown control route"),
    }
}
