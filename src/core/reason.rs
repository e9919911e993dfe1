//! Stable reason codes: the one vocabulary shared by answers, logs and tests.
//!
//! Stage errors carry context for logs; each maps to exactly one [`Reason`], whose code never
//! changes once published (clients and dashboards match on it).

use std::fmt;

/// Why a request was refused (or could not be decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// No bearer token (no `Authorization`, or another scheme).
    TokenMissing,
    /// `Authorization: Bearer` present but not RFC 6750 syntax (or sent twice).
    MalformedAuthorization,
    /// The token exceeds the configured size cap; nothing of it was parsed.
    TokenTooLarge,
    /// Not a compact JWS: segment count, empty segment or non-strict base64url.
    MalformedJws,
    /// The JOSE header is not a JSON object of the expected shape.
    MalformedHeader,
    /// `alg` is anything but the configured algorithm (none, HS*, ES*, PS*, ...).
    AlgorithmNotAllowed,
    /// The header carries a member we refuse: `crit`, `jku`, `x5u`, `jwk`, `x5c`, `cty`.
    ForbiddenHeader,
    /// No `kid` in the header.
    KidMissing,
    /// No key with this `kid` in the tenant's published keys.
    UnknownKid,
    /// The signature does not verify under the selected key.
    InvalidSignature,
    /// The claims are not a JSON object of the expected types (or repeat a member).
    MalformedClaims,
    /// `exp` is past (with skew).
    TokenExpired,
    /// `nbf` is in the future (with skew).
    TokenNotYetValid,
    /// `iat` is in the future, after `exp`, or not a sane time.
    InvalidIssuedAt,
    /// `aud` names none of the configured audiences.
    InvalidAudience,
    /// `iss` is not the tenant's issuer for this token version.
    InvalidIssuer,
    /// `tid` is not a GUID or differs from the issuer's tenant segment.
    TenantMismatch,
    /// The signing key's `issuer` does not match the token's issuer.
    KeyIssuerMismatch,
    /// A token version (`ver`) this API does not accept.
    WrongTokenVersion,
    /// A Microsoft Graph / first-party token (Graph audience or `nonce` header).
    GraphToken,
    /// An ID token presented as an access token.
    IdToken,
    /// Personal Microsoft account token where only work or school accounts are accepted.
    ConsumerTenant,
    /// A tenant outside `ENTRA_ALLOWED_TENANTS`.
    TenantNotAllowed,
    /// The token lacks every scope this route accepts.
    InsufficientScope,
    /// The token lacks the app role this route requires.
    InsufficientRole,
    /// Delegated where app-only is required, or the reverse.
    TokenKindNotAllowed,
    /// The calling application (`azp`/`appid`) is not on the route's list.
    ClientNotAllowed,
    /// `azpacr`/`appidacr` below the route's minimum.
    ClientAuthTooWeak,
    /// The token's tenant is not among the route's tenants.
    RouteTenantNotAllowed,
    /// A generic claim matcher did not match.
    ClaimMismatch,
    /// The route's authentication context is missing from `acrs`: a claims challenge.
    StepUpRequired,
    /// Step-up needed, but the token's `xms_cc` lacks `cp1`.
    StepUpUnsupportedClient,
    /// App-only token on a step-up route.
    StepUpAppOnly,
    /// `amr` lacks `mfa`.
    MfaRequired,
    /// `auth_time` older than the route's maximum age.
    AuthTooOld,
    /// Client IP outside the route's ranges.
    ConditionIp,
    /// Country outside the route's list.
    ConditionCountry,
    /// ASN outside the route's list.
    ConditionAsn,
    /// Outside the route's UTC time window.
    ConditionTime,
    /// The token's `ipaddr` differs from the client IP.
    ConditionIpaddr,
    /// On the revocation list (token id, user or application).
    TokenRevoked,
    /// No route matched and the policy's default is deny.
    NoRoute,
    /// A CORS preflight from an origin or for a method the policy does not allow.
    CorsNotAllowed,
    /// No usable signing keys could be obtained (not the client's fault).
    KeysUnavailable,
    /// The revocation list could not be read and no earlier copy is held (fail closed).
    RevocationUnavailable,
    /// The gateway's configuration is invalid; nothing is forwarded.
    ConfigInvalid,
    /// The origin could not be reached or failed.
    OriginUnreachable,
    /// The origin did not answer within `GATE_ORIGIN_TIMEOUT_SECONDS`.
    OriginTimeout,
}

/// Which part of the walk a reason comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The `Authorization` header and the token itself.
    Token,
    /// Signing keys (not the client's fault).
    Keys,
    /// The route policy and the revocation list.
    Policy,
    Config,
    Origin,
}

impl Reason {
    /// A route requirement the token does not meet (RFC 6750 `insufficient_scope`, 403).
    pub fn is_unmet_requirement(self) -> bool {
        matches!(
            self,
            Reason::InsufficientScope
                | Reason::InsufficientRole
                | Reason::TokenKindNotAllowed
                | Reason::ClientNotAllowed
                | Reason::ClientAuthTooWeak
                | Reason::RouteTenantNotAllowed
                | Reason::ClaimMismatch
        )
    }

    pub fn stage(self) -> Stage {
        match self {
            Reason::KeysUnavailable | Reason::RevocationUnavailable => Stage::Keys,
            Reason::ConfigInvalid => Stage::Config,
            Reason::OriginUnreachable | Reason::OriginTimeout => Stage::Origin,
            r if r.is_unmet_requirement() => Stage::Policy,
            Reason::StepUpRequired
            | Reason::StepUpUnsupportedClient
            | Reason::StepUpAppOnly
            | Reason::MfaRequired
            | Reason::AuthTooOld
            | Reason::ConditionIp
            | Reason::ConditionCountry
            | Reason::ConditionAsn
            | Reason::ConditionTime
            | Reason::ConditionIpaddr
            | Reason::TokenRevoked
            | Reason::NoRoute
            | Reason::CorsNotAllowed => Stage::Policy,
            _ => Stage::Token,
        }
    }

    pub const ALL: &'static [Reason] = &[
        Reason::TokenMissing,
        Reason::MalformedAuthorization,
        Reason::TokenTooLarge,
        Reason::MalformedJws,
        Reason::MalformedHeader,
        Reason::AlgorithmNotAllowed,
        Reason::ForbiddenHeader,
        Reason::KidMissing,
        Reason::UnknownKid,
        Reason::InvalidSignature,
        Reason::MalformedClaims,
        Reason::TokenExpired,
        Reason::TokenNotYetValid,
        Reason::InvalidIssuedAt,
        Reason::InvalidAudience,
        Reason::InvalidIssuer,
        Reason::TenantMismatch,
        Reason::KeyIssuerMismatch,
        Reason::WrongTokenVersion,
        Reason::GraphToken,
        Reason::IdToken,
        Reason::ConsumerTenant,
        Reason::TenantNotAllowed,
        Reason::InsufficientScope,
        Reason::InsufficientRole,
        Reason::TokenKindNotAllowed,
        Reason::ClientNotAllowed,
        Reason::ClientAuthTooWeak,
        Reason::RouteTenantNotAllowed,
        Reason::ClaimMismatch,
        Reason::StepUpRequired,
        Reason::StepUpUnsupportedClient,
        Reason::StepUpAppOnly,
        Reason::MfaRequired,
        Reason::AuthTooOld,
        Reason::ConditionIp,
        Reason::ConditionCountry,
        Reason::ConditionAsn,
        Reason::ConditionTime,
        Reason::ConditionIpaddr,
        Reason::TokenRevoked,
        Reason::NoRoute,
        Reason::CorsNotAllowed,
        Reason::KeysUnavailable,
        Reason::RevocationUnavailable,
        Reason::ConfigInvalid,
        Reason::OriginUnreachable,
        Reason::OriginTimeout,
    ];

    /// The stable, machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::TokenMissing => "token_missing",
            Reason::MalformedAuthorization => "malformed_authorization",
            Reason::TokenTooLarge => "token_too_large",
            Reason::MalformedJws => "malformed_jws",
            Reason::MalformedHeader => "malformed_header",
            Reason::AlgorithmNotAllowed => "alg_not_allowed",
            Reason::ForbiddenHeader => "forbidden_header",
            Reason::KidMissing => "kid_missing",
            Reason::UnknownKid => "unknown_kid",
            Reason::InvalidSignature => "invalid_signature",
            Reason::MalformedClaims => "malformed_claims",
            Reason::TokenExpired => "token_expired",
            Reason::TokenNotYetValid => "token_not_yet_valid",
            Reason::InvalidIssuedAt => "invalid_iat",
            Reason::InvalidAudience => "invalid_audience",
            Reason::InvalidIssuer => "invalid_issuer",
            Reason::TenantMismatch => "tenant_mismatch",
            Reason::KeyIssuerMismatch => "key_issuer_mismatch",
            Reason::WrongTokenVersion => "wrong_token_version",
            Reason::GraphToken => "graph_token",
            Reason::IdToken => "id_token",
            Reason::ConsumerTenant => "consumer_tenant",
            Reason::TenantNotAllowed => "tenant_not_allowed",
            Reason::InsufficientScope => "insufficient_scope",
            Reason::InsufficientRole => "insufficient_role",
            Reason::TokenKindNotAllowed => "token_kind_not_allowed",
            Reason::ClientNotAllowed => "client_not_allowed",
            Reason::ClientAuthTooWeak => "client_auth_too_weak",
            Reason::RouteTenantNotAllowed => "route_tenant_not_allowed",
            Reason::ClaimMismatch => "claim_mismatch",
            Reason::StepUpRequired => "step_up_required",
            Reason::StepUpUnsupportedClient => "step_up_unsupported_client",
            Reason::StepUpAppOnly => "step_up_app_only",
            Reason::MfaRequired => "mfa_required",
            Reason::AuthTooOld => "auth_too_old",
            Reason::ConditionIp => "condition_ip",
            Reason::ConditionCountry => "condition_country",
            Reason::ConditionAsn => "condition_asn",
            Reason::ConditionTime => "condition_time",
            Reason::ConditionIpaddr => "condition_ipaddr",
            Reason::TokenRevoked => "token_revoked",
            Reason::NoRoute => "no_route",
            Reason::CorsNotAllowed => "cors_not_allowed",
            Reason::KeysUnavailable => "keys_unavailable",
            Reason::RevocationUnavailable => "revocation_unavailable",
            Reason::ConfigInvalid => "config_invalid",
            Reason::OriginUnreachable => "origin_unreachable",
            Reason::OriginTimeout => "origin_timeout",
        }
    }

    /// A short description safe to show any client: it never contains token material.
    pub fn description(self) -> &'static str {
        match self {
            Reason::TokenMissing => "a bearer access token is required",
            Reason::MalformedAuthorization => "the Authorization header is not valid Bearer syntax",
            Reason::TokenTooLarge => "the token is larger than this API accepts",
            Reason::MalformedJws => "the token is not a compact JWS with three base64url segments",
            Reason::MalformedHeader => "the token header is not valid",
            Reason::AlgorithmNotAllowed => "the token's signing algorithm is not accepted",
            Reason::ForbiddenHeader => "the token header carries a parameter that is not accepted",
            Reason::KidMissing => "the token header has no key id",
            Reason::UnknownKid => "the token was signed with a key this tenant does not publish",
            Reason::InvalidSignature => "the token signature is invalid",
            Reason::MalformedClaims => "the token claims are not valid",
            Reason::TokenExpired => "the token has expired",
            Reason::TokenNotYetValid => "the token is not valid yet",
            Reason::InvalidIssuedAt => "the token issue time is not valid",
            Reason::InvalidAudience => "the token is not meant for this API",
            Reason::InvalidIssuer => "the token issuer is not accepted",
            Reason::TenantMismatch => "the token tenant does not match its issuer",
            Reason::KeyIssuerMismatch => "the signing key does not belong to the token issuer",
            Reason::WrongTokenVersion => "this token version is not accepted by this API",
            Reason::GraphToken => {
                "a Microsoft Graph or first-party token cannot be used with this API"
            }
            Reason::IdToken => "an ID token cannot be used as an access token",
            Reason::ConsumerTenant => "personal Microsoft accounts are not accepted",
            Reason::TenantNotAllowed => "tokens from this tenant are not accepted",
            Reason::InsufficientScope => "the token lacks a required scope",
            Reason::InsufficientRole => "the token lacks a required app role",
            Reason::TokenKindNotAllowed => "this route does not accept this kind of token",
            Reason::ClientNotAllowed => "the calling application is not allowed on this route",
            Reason::ClientAuthTooWeak => "the calling application authenticated too weakly",
            Reason::RouteTenantNotAllowed => {
                "tokens from this tenant are not accepted on this route"
            }
            Reason::ClaimMismatch => "a claim does not have an accepted value",
            Reason::StepUpRequired => "a stronger authentication context is required",
            Reason::StepUpUnsupportedClient => {
                "step-up is required but the client cannot handle claims challenges"
            }
            Reason::StepUpAppOnly => "this route requires a user and step-up authentication",
            Reason::MfaRequired => "multi-factor authentication is required",
            Reason::AuthTooOld => "a more recent sign-in is required",
            Reason::ConditionIp => "requests from this address are not allowed",
            Reason::ConditionCountry => "requests from this country are not allowed",
            Reason::ConditionAsn => "requests from this network are not allowed",
            Reason::ConditionTime => "requests are not allowed at this time",
            Reason::ConditionIpaddr => "the token was issued to another address",
            Reason::TokenRevoked => "the token has been revoked",
            Reason::NoRoute => "no route allows this request",
            Reason::CorsNotAllowed => "this cross-origin request is not allowed",
            Reason::KeysUnavailable => "signing keys are temporarily unavailable",
            Reason::RevocationUnavailable => "the revocation list is temporarily unavailable",
            Reason::ConfigInvalid => "the gateway is not configured correctly",
            Reason::OriginUnreachable => "the upstream service could not be reached",
            Reason::OriginTimeout => "the upstream service did not answer in time",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case() {
        let codes: HashSet<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
        for code in codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
    }

    #[test]
    fn descriptions_are_safe_in_a_quoted_header() {
        for reason in Reason::ALL {
            let d = reason.description();
            assert!(d
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'));
        }
    }
}
