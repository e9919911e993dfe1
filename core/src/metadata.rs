//! OpenID Connect discovery for an Entra tenant: where the metadata lives, and what of it we
//! believe (the issuer and the key document's address, each checked against the configuration).

use super::config::TenantSelector;
use super::endpoint::{Endpoint, EndpointError};
use super::issuer::{tenant_segment, IssuerTemplate};
use super::json::read::{self, Member};
use super::json::{self, JsonError};
use std::fmt;

/// Metadata documents are about 2 KiB; anything much larger is not one.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

/// Which of a tenant's two metadata documents: each names the issuer of one token version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataVersion {
    /// `{authority}/{tenant}/.well-known/openid-configuration`: for `ver` 1.0 tokens.
    V1,
    /// `{authority}/{tenant}/v2.0/.well-known/openid-configuration`: for `ver` 2.0 tokens.
    V2,
}

impl MetadataVersion {
    /// `v1` or `v2`, for logs and problem details.
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataVersion::V1 => "v1",
            MetadataVersion::V2 => "v2",
        }
    }
}

/// `{authority}/{tenant}/v2.0/.well-known/openid-configuration` (v2) or without `/v2.0` (v1).
pub fn metadata_url(
    authority: &Endpoint,
    tenant: &TenantSelector,
    version: MetadataVersion,
) -> String {
    let base = authority.as_str().trim_end_matches('/');
    let segment = tenant.path_segment();
    match version {
        MetadataVersion::V2 => format!("{base}/{segment}/v2.0/.well-known/openid-configuration"),
        MetadataVersion::V1 => format!("{base}/{segment}/.well-known/openid-configuration"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantMetadata {
    pub issuer: IssuerTemplate,
    pub jwks_uri: Endpoint,
}

/// Why a metadata document (or what a KV record says one held) is not believed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// Over [`MAX_METADATA_BYTES`]; not parsed.
    TooLarge {
        /// The document's length in bytes.
        length: usize,
    },
    /// Not a JSON object with string `issuer` and `jwks_uri`.
    NotMetadata {
        /// The parser's complaint.
        detail: String,
    },
    /// `jwks_uri` is not an acceptable URL.
    JwksUri(EndpointError),
    /// `jwks_uri` is not on the configured authority (scheme, host and port).
    ForeignJwksUri {
        /// `jwks_uri` as given.
        jwks_uri: String,
    },
    /// The issuer is not an acceptable URL, or its tenant segment is not the configured tenant
    /// (for `organizations` and `common`: not the `{tenantid}` template).
    Issuer {
        /// `issuer` as given.
        issuer: String,
    },
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::TooLarge { length } => {
                write!(f, "metadata of {length} bytes exceeds {MAX_METADATA_BYTES}")
            }
            MetadataError::NotMetadata { detail } => write!(f, "not OpenID metadata: {detail}"),
            MetadataError::JwksUri(e) => write!(f, "jwks_uri refused: {e}"),
            MetadataError::ForeignJwksUri { jwks_uri } => {
                write!(f, "jwks_uri {jwks_uri} is not on the configured authority")
            }
            MetadataError::Issuer { issuer } => {
                write!(f, "issuer {issuer} does not name the configured tenant")
            }
        }
    }
}

/// Parses a metadata document and checks it belongs to the configured tenant and authority.
pub fn parse_metadata(
    document: &[u8],
    authority: &Endpoint,
    tenant: &TenantSelector,
) -> Result<TenantMetadata, MetadataError> {
    if document.len() > MAX_METADATA_BYTES {
        return Err(MetadataError::TooLarge {
            length: document.len(),
        });
    }
    let not_metadata = |e: JsonError| MetadataError::NotMetadata {
        detail: e.to_string(),
    };
    let mut metadata = json::parse_object(document).map_err(not_metadata)?;
    let mut text = |name: &str| {
        metadata
            .take(name)
            .ok_or_else(|| JsonError::missing(name, "the metadata"))
            .and_then(|value| read::string(&Member(name), value))
            .map_err(not_metadata)
    };
    let issuer = text("issuer")?.into_owned();
    let jwks_uri = text("jwks_uri")?;
    vet_documents(issuer, &jwks_uri, authority, tenant)
}

/// What we believe of a metadata document, checked against the configuration: the key document
/// is on the authority, and the issuer names the configured tenant (or the `{tenantid}`
/// template for a multi-tenant selector). Also applied to what a KV record says it fetched.
pub fn vet_documents(
    issuer: String,
    jwks_uri: &str,
    authority: &Endpoint,
    tenant: &TenantSelector,
) -> Result<TenantMetadata, MetadataError> {
    let parsed = Endpoint::parse(jwks_uri).map_err(MetadataError::JwksUri)?;
    if !parsed.same_origin(authority) {
        return Err(MetadataError::ForeignJwksUri {
            jwks_uri: jwks_uri.to_owned(),
        });
    }
    let issuer = IssuerTemplate::new(issuer);
    let names_tenant = match tenant {
        TenantSelector::Tenant(guid) => tenant_segment(issuer.as_str()) == Some(guid.as_str()),
        TenantSelector::Organizations | TenantSelector::Common => {
            tenant_segment(issuer.as_str()).is_some_and(|s| s.eq_ignore_ascii_case("{tenantid}"))
        }
    };
    if !names_tenant || Endpoint::parse(issuer.as_str()).is_err() {
        return Err(MetadataError::Issuer {
            issuer: issuer.as_str().to_owned(),
        });
    }
    Ok(TenantMetadata {
        issuer,
        jwks_uri: parsed,
    })
}

impl std::error::Error for MetadataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let MetadataError::JwksUri(e) = self {
            Some(e)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn authority() -> Endpoint {
        Endpoint::parse("https://login.microsoftonline.com").expect("authority")
    }

    #[test]
    fn builds_entra_metadata_urls() {
        let t = TenantSelector::Tenant(TID.into());
        assert_eq!(
            metadata_url(&authority(), &t, MetadataVersion::V2),
            format!(
                "https://login.microsoftonline.com/{TID}/v2.0/.well-known/openid-configuration"
            )
        );
        assert_eq!(
            metadata_url(
                &authority(),
                &TenantSelector::Organizations,
                MetadataVersion::V1
            ),
            "https://login.microsoftonline.com/organizations/.well-known/openid-configuration"
        );
    }

    #[test]
    fn accepts_real_shaped_documents() {
        let v1 = format!(
            r#"{{"issuer":"https://sts.windows.net/{TID}/","jwks_uri":"https://login.microsoftonline.com/{TID}/discovery/keys","other":1}}"#
        );
        let m = parse_metadata(
            v1.as_bytes(),
            &authority(),
            &TenantSelector::Tenant(TID.into()),
        )
        .expect("valid");
        assert_eq!(m.issuer.as_str(), format!("https://sts.windows.net/{TID}/"));
        let multi = r#"{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","jwks_uri":"https://login.microsoftonline.com/organizations/discovery/v2.0/keys"}"#;
        assert!(parse_metadata(
            multi.as_bytes(),
            &authority(),
            &TenantSelector::Organizations
        )
        .is_ok());
    }

    #[test]
    fn refuses_documents_that_point_elsewhere() {
        let t = TenantSelector::Tenant(TID.into());
        let foreign = format!(
            r#"{{"issuer":"https://sts.windows.net/{TID}/","jwks_uri":"https://evil.example/keys"}}"#
        );
        assert!(matches!(
            parse_metadata(foreign.as_bytes(), &authority(), &t),
            Err(MetadataError::ForeignJwksUri { .. })
        ));
        let other_tenant = r#"{"issuer":"https://sts.windows.net/00000000-0000-0000-0000-000000000000/","jwks_uri":"https://login.microsoftonline.com/x/discovery/keys"}"#;
        assert!(matches!(
            parse_metadata(other_tenant.as_bytes(), &authority(), &t),
            Err(MetadataError::Issuer { .. })
        ));
        let template_for_single = r#"{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","jwks_uri":"https://login.microsoftonline.com/x/discovery/keys"}"#;
        assert!(parse_metadata(template_for_single.as_bytes(), &authority(), &t).is_err());
        assert!(parse_metadata(b"{}", &authority(), &t).is_err());
    }
}
