//! What a verified token says about the caller. Only [`super::claims::validate`] makes one.

/// `ver` of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    V1,
    V2,
}

impl TokenVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenVersion::V1 => "1.0",
            TokenVersion::V2 => "2.0",
        }
    }
}

/// Delegated (a user signed in through a client) or app-only (client credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Delegated,
    App,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Delegated => "user",
            TokenKind::App => "app",
        }
    }
}

/// The caller as a verified access token describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub tenant_id: String,
    pub object_id: String,
    pub subject: String,
    /// `azp` (v2) or `appid` (v1): the calling application.
    pub client_id: String,
    /// `azpacr` / `appidacr`: how the client authenticated ("0" public, "1" secret, "2" cert).
    pub client_auth: Option<String>,
    pub kind: TokenKind,
    pub version: TokenVersion,
    /// The accepted audience the token matched.
    pub audience: String,
    pub issuer: String,
    pub kid: String,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub acrs: Vec<String>,
    pub amr: Vec<String>,
    pub auth_time: Option<i64>,
    pub xms_cc: Vec<String>,
    /// `uti`: Entra's token identifier.
    pub token_id: Option<String>,
    pub ip_address: Option<String>,
    pub expires_at: i64,
    /// Claims the policy's generic matchers name, as strings (arrays give several).
    pub extra_claims: Vec<(String, Vec<String>)>,
}

impl VerifiedIdentity {
    /// The values of a claim kept for generic matchers (empty when absent).
    pub fn extra_claim(&self, name: &str) -> &[String] {
        self.extra_claims
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }
}

/// A plain identity for unit tests elsewhere in the core.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn identity() -> VerifiedIdentity {
        VerifiedIdentity {
            tenant_id: "3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b".into(),
            object_id: "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51".into(),
            subject: "subject".into(),
            client_id: "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11".into(),
            client_auth: Some("1".into()),
            kind: TokenKind::Delegated,
            version: TokenVersion::V2,
            audience: "api://x".into(),
            issuer: "https://login.microsoftonline.com/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/v2.0"
                .into(),
            kid: "k".into(),
            scopes: vec!["items.read".into()],
            roles: Vec::new(),
            acrs: Vec::new(),
            amr: Vec::new(),
            auth_time: None,
            xms_cc: Vec::new(),
            token_id: None,
            ip_address: None,
            expires_at: 0,
            extra_claims: Vec::new(),
        }
    }
}
