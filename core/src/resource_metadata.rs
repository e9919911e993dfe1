//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document a client (an MCP client, a
//! newer SDK) reads to learn which authorization server issues tokens for this API and which
//! scopes to ask for, and the `resource_metadata` parameter of every `WWW-Authenticate`
//! challenge that points at it.
//!
//! Built once from configuration; per request only the resource (the URL the client called)
//! goes in.

use super::json::write::ObjectWriter;
use crate::policy::{Need, Policy};

/// Where the document is served (RFC 9728 §3); a path after it names a resource under the
/// host (`/.well-known/oauth-protected-resource/mcp` describes `https://host/mcp`).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// What the document says besides the resource itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    /// The Entra issuer that issues tokens for this API (`{authority}/{tenant}/v2.0`).
    pub authorization_server: String,
    /// Scopes as a client requests them from Entra: `{App ID URI}/{scope}`.
    pub scopes: Vec<String>,
    /// How a token may be presented: `header`, and `query` when a route accepts one there.
    pub bearer_methods: Vec<&'static str>,
}

impl ResourceMetadata {
    /// The metadata of an API whose tokens Entra issues at `authorization_server` for the
    /// audiences `audiences` (the first URI among them, else the first, prefixes the scopes).
    pub fn new(
        authorization_server: String,
        audiences: &[String],
        policy: &Policy,
        query_tokens: bool,
    ) -> Self {
        let application = audiences
            .iter()
            .find(|a| a.contains("://"))
            .or_else(|| audiences.first())
            .map(|a| a.trim_end_matches('/'))
            .unwrap_or_default();
        let mut names: Vec<&str> = Vec::new();
        let needs = policy
            .routes
            .iter()
            .map(|r| &r.require)
            .chain(std::iter::once(&policy.default_require))
            .filter_map(|require| require.scopes.as_ref());
        for need in needs {
            let (Need::AnyOf(listed) | Need::AllOf(listed)) = need;
            for name in listed {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        if names.is_empty() {
            // Nothing named: the scope that asks for whatever the app has been granted.
            names.push(".default");
        }
        let mut bearer_methods = vec!["header"];
        if query_tokens {
            bearer_methods.push("query");
        }
        ResourceMetadata {
            authorization_server,
            scopes: names
                .into_iter()
                .map(|n| format!("{application}/{n}"))
                .collect(),
            bearer_methods,
        }
    }

    /// The JSON document for `resource`.
    pub fn document(&self, resource: &str) -> String {
        ObjectWriter::new()
            .str("resource", resource)
            .strs(
                "authorization_servers",
                [self.authorization_server.as_str()],
            )
            .strs("scopes_supported", self.scopes.iter().map(String::as_str))
            .strs(
                "bearer_methods_supported",
                self.bearer_methods.iter().copied(),
            )
            .finish()
    }
}

/// The resource a request for `path` on `served_at` (`scheme://host[:port]`) asks about, when
/// `path` is the well-known path or below it.
pub fn resource_for(path: &str, served_at: &str) -> Option<String> {
    let rest = path.strip_prefix(WELL_KNOWN_PATH)?;
    match rest {
        "" => Some(served_at.to_owned()),
        _ if rest.starts_with('/') && rest.len() > 1 => Some(format!("{served_at}{rest}")),
        _ => None,
    }
}

/// The document's URL for a client that called `served_at`.
pub fn metadata_url(served_at: &str) -> String {
    format!("{served_at}{WELL_KNOWN_PATH}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Deployment;

    fn policy(json: &str) -> Policy {
        let audiences = ["api://contoso-api".to_owned()];
        let deployment = Deployment {
            accept_v1: true,
            accept_v2: true,
            audiences: &audiences,
        };
        Policy::parse(json, deployment).expect("valid")
    }

    const ISSUER: &str =
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";

    #[test]
    fn the_document_names_the_issuer_the_scopes_and_the_bearer_methods() {
        let p = policy(
            r#"{"default":"authenticated","routes":[
                {"path":"/a","require":{"scopes":{"any_of":["items.read","items.write"]}}},
                {"path":"/b","require":{"scopes":{"all_of":["items.read","admin"]},"roles":{"any_of":["Admin"]}}}]}"#,
        );
        let audiences = [
            "6e74172b-be56-4843-9ff4-e66a39bb12e3".to_owned(),
            "api://contoso-api/".to_owned(),
        ];
        let metadata = ResourceMetadata::new(ISSUER.into(), &audiences, &p, false);
        let document: serde_json::Value =
            serde_json::from_str(&metadata.document("https://api.contoso.com")).expect("json");
        assert_eq!(
            document,
            serde_json::json!({
                "resource": "https://api.contoso.com",
                "authorization_servers": [ISSUER],
                "scopes_supported": [
                    "api://contoso-api/items.read",
                    "api://contoso-api/items.write",
                    "api://contoso-api/admin"
                ],
                "bearer_methods_supported": ["header"]
            })
        );
        let with_query = ResourceMetadata::new(ISSUER.into(), &audiences, &p, true);
        assert_eq!(with_query.bearer_methods, ["header", "query"]);
    }

    #[test]
    fn without_named_scopes_the_default_scope_of_the_first_audience() {
        let p = policy(r#"{"default":"authenticated"}"#);
        let audiences = ["6e74172b-be56-4843-9ff4-e66a39bb12e3".to_owned()];
        let metadata = ResourceMetadata::new(ISSUER.into(), &audiences, &p, false);
        assert_eq!(
            metadata.scopes,
            ["6e74172b-be56-4843-9ff4-e66a39bb12e3/.default"]
        );
    }

    #[test]
    fn the_well_known_path_and_paths_below_it_name_a_resource() {
        let at = "https://api.contoso.com";
        assert_eq!(
            resource_for("/.well-known/oauth-protected-resource", at).as_deref(),
            Some(at)
        );
        assert_eq!(
            resource_for("/.well-known/oauth-protected-resource/mcp/v1", at).as_deref(),
            Some("https://api.contoso.com/mcp/v1")
        );
        for other in [
            "/.well-known/oauth-protected-resource/",
            "/.well-known/oauth-protected-resourcex",
            "/.well-known/openid-configuration",
            "/",
        ] {
            assert_eq!(resource_for(other, at), None, "{other}");
        }
        assert_eq!(
            metadata_url(at),
            "https://api.contoso.com/.well-known/oauth-protected-resource"
        );
    }
}
