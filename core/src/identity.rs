//! What a verified token says about the caller. Only [`super::claims::validate`] makes one.

/// `ver` of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// `1.0`: the calling app in `appid`, its authentication in `appidacr`.
    V1,
    /// `2.0`: the calling app in `azp`, its authentication in `azpacr`.
    V2,
}

impl TokenVersion {
    /// `ver` as the token spells it (`1.0`, `2.0`), for headers, logs and the assertion.
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
    /// A user signed in through a client (`idtyp` `user`, or `scp` without `idtyp`).
    Delegated,
    /// The application itself (`idtyp` `app`, or neither `idtyp` nor `scp`).
    App,
}

impl TokenKind {
    /// `idtyp`'s spelling (`user`, `app`), for headers, logs and the assertion.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Delegated => "user",
            TokenKind::App => "app",
        }
    }
}

/// Declares [`VerifiedIdentity`] and, for tests and fuzzing only, `IdentityParts` with the
/// same fields and the one conversion between them: one list of fields, so the two cannot drift.
macro_rules! identity {
    ($( $(#[doc = $doc:literal])* $field:ident: $ty:ty, )*) => {
        /// The caller as a verified access token describes it. Sealed: only claims validation
        /// makes one (and, for this crate's tests and the fuzz targets,
        /// `VerifiedIdentity::from_parts`), so holding one means the token's signature and
        /// claims were checked.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct VerifiedIdentity {
            $( $(#[doc = $doc])* pub(crate) $field: $ty, )*
        }

        /// Every part of a [`VerifiedIdentity`], for `VerifiedIdentity::from_parts`.
        #[cfg(any(test, fuzzing))]
        #[doc(hidden)]
        #[allow(missing_docs)]
        pub struct IdentityParts {
            $( pub $field: $ty, )*
        }

        #[cfg(any(test, fuzzing))]
        impl VerifiedIdentity {
            /// An identity from its parts, without a token: only in this crate's tests and
            /// under `cfg(fuzzing)`, never in a build anything can switch on.
            #[doc(hidden)]
            pub fn from_parts(parts: IdentityParts) -> Self {
                VerifiedIdentity { $( $field: parts.$field, )* }
            }
        }
    };
}

identity! {
    /// `tid`: the caller's tenant.
    tenant_id: String,
    /// `oid`: the user or service principal.
    object_id: String,
    /// `sub`: the subject, pairwise per application.
    subject: String,
    /// `azp` (v2) or `appid` (v1): the calling application.
    client_id: String,
    /// `azpacr` / `appidacr`: how the client authenticated (`0` public, `1` secret, `2` certificate).
    client_auth: Option<String>,
    /// Delegated or app-only.
    kind: TokenKind,
    /// `ver`.
    version: TokenVersion,
    /// The accepted audience the token matched, as configured.
    audience: String,
    /// `iss`.
    issuer: String,
    /// The key that signed the token.
    kid: String,
    /// `scp`, split at spaces.
    scopes: Vec<String>,
    /// `roles`.
    roles: Vec<String>,
    /// `acrs`: authentication context class references satisfied.
    acrs: Vec<String>,
    /// `amr` (v1 tokens): how the user authenticated.
    amr: Vec<String>,
    /// `auth_time`: when the user last signed in.
    auth_time: Option<i64>,
    /// `xms_cc`: client capabilities (`cp1`: handles claims challenges).
    xms_cc: Vec<String>,
    /// `uti`: Entra's token identifier.
    token_id: Option<String>,
    /// `ipaddr`: the address the token was issued to.
    ip_address: Option<String>,
    /// `groups`: object ids (lower case) of the groups the token lists.
    groups: Vec<String>,
    /// The token left the groups out (`_claim_names.groups` or `hasgroups`): too many to list.
    groups_overage: bool,
    /// `exp`, in whole seconds.
    expires_at: i64,
    /// Claims the policy's generic matchers and claim headers name, as strings.
    extra_claims: Vec<(String, Vec<String>)>,
}

impl VerifiedIdentity {
    /// `tid`: the caller's tenant.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// `oid`: the user or service principal.
    pub fn object_id(&self) -> &str {
        &self.object_id
    }

    /// `sub`: the subject, pairwise per application.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// `azp` (v2) or `appid` (v1): the calling application.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `azpacr` / `appidacr`: how the client authenticated (`0` public, `1` secret, `2` certificate).
    pub fn client_auth(&self) -> Option<&str> {
        self.client_auth.as_deref()
    }

    /// Delegated or app-only.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// `ver`.
    pub fn version(&self) -> TokenVersion {
        self.version
    }

    /// The accepted audience the token matched, as configured.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key that signed the token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `scp`, split at spaces.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// `roles`.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// `groups`: object ids (lower case) of the groups the token lists.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// The token left its groups out (overage): too many to list, so [`Self::groups`] says
    /// nothing about membership.
    pub fn groups_overage(&self) -> bool {
        self.groups_overage
    }

    /// `acrs`: authentication context class references satisfied.
    pub fn acrs(&self) -> &[String] {
        &self.acrs
    }

    /// `amr` (v1 tokens): how the user authenticated.
    pub fn amr(&self) -> &[String] {
        &self.amr
    }

    /// `auth_time`: when the user last signed in.
    pub fn auth_time(&self) -> Option<i64> {
        self.auth_time
    }

    /// `xms_cc`: client capabilities (`cp1`: handles claims challenges).
    pub fn xms_cc(&self) -> &[String] {
        &self.xms_cc
    }

    /// `uti`: Entra's token identifier.
    pub fn token_id(&self) -> Option<&str> {
        self.token_id.as_deref()
    }

    /// `ipaddr`: the address the token was issued to.
    pub fn ip_address(&self) -> Option<&str> {
        self.ip_address.as_deref()
    }

    /// `exp`, in whole seconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The values of a claim kept for generic matchers and claim headers (empty when absent).
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
            groups: Vec::new(),
            groups_overage: false,
            extra_claims: Vec::new(),
        }
    }
}
