//! Entra's issuer rules: issuers come from the tenant's metadata (never hard-coded), may be a
//! `{tenantid}` template for multi-tenant authorities, and name the tenant in their first path
//! segment.

const PLACEHOLDER: &str = "{tenantid}";

/// An issuer as published in metadata or on a key: exact, or a template with `{tenantid}`
/// (matched case-insensitively, as Microsoft.IdentityModel does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerTemplate(String);

impl IssuerTemplate {
    /// The issuer as published, exact or a template; nothing is checked here.
    pub fn new(text: impl Into<String>) -> Self {
        IssuerTemplate(text.into())
    }

    /// The issuer as published, with any placeholder unresolved.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it holds a `{tenantid}` placeholder (a multi-tenant authority's issuer).
    pub fn is_template(&self) -> bool {
        placeholder_at(&self.0).is_some()
    }

    /// The issuer a token of tenant `tid` must carry.
    pub fn resolve(&self, tid: &str) -> String {
        match placeholder_at(&self.0) {
            Some(at) => {
                let mut resolved = String::with_capacity(self.0.len() + tid.len());
                resolved.push_str(&self.0[..at]);
                resolved.push_str(tid);
                resolved.push_str(&self.0[at + PLACEHOLDER.len()..]);
                resolved
            }
            None => self.0.clone(),
        }
    }
}

fn placeholder_at(text: &str) -> Option<usize> {
    text.as_bytes()
        .windows(PLACEHOLDER.len())
        .position(|w| w.eq_ignore_ascii_case(PLACEHOLDER.as_bytes()))
}

/// The first path segment of an issuer URL: where Entra puts the tenant id
/// (`https://sts.windows.net/{tid}/`, `https://login.microsoftonline.com/{tid}/v2.0`,
/// `https://{name}.ciamlogin.com/{tid}/v2.0`).
pub fn tenant_segment(issuer: &str) -> Option<&str> {
    let (_, rest) = issuer.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    let segment = path.split('/').next()?;
    (!segment.is_empty()).then_some(segment)
}

/// The issuers a deployment accepts, per token version, as the tenant's metadata gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerRules {
    /// `None`: v1 tokens are not accepted.
    pub v1: Option<IssuerTemplate>,
    /// `None`: v2 tokens are not accepted.
    pub v2: Option<IssuerTemplate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_templates_case_insensitively() {
        let t = IssuerTemplate::new("https://login.microsoftonline.com/{TenantId}/v2.0");
        assert!(t.is_template());
        assert_eq!(
            t.resolve("abc"),
            "https://login.microsoftonline.com/abc/v2.0"
        );
        let exact = IssuerTemplate::new("https://sts.windows.net/abc/");
        assert!(!exact.is_template());
        assert_eq!(exact.resolve("zzz"), "https://sts.windows.net/abc/");
    }

    #[test]
    fn finds_the_tenant_segment() {
        assert_eq!(tenant_segment("https://sts.windows.net/t1/"), Some("t1"));
        assert_eq!(
            tenant_segment("https://login.microsoftonline.com/t2/v2.0"),
            Some("t2")
        );
        assert_eq!(
            tenant_segment("https://x.ciamlogin.com/t3/v2.0"),
            Some("t3")
        );
        assert_eq!(tenant_segment("https://sts.windows.net//"), None);
        assert_eq!(tenant_segment("https://sts.windows.net"), None);
        assert_eq!(tenant_segment("sts.windows.net/t1/"), None);
    }
}
