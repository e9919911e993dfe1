//! Stable reason codes: the one vocabulary shared by answers, logs and tests.
//!
//! Every reason is declared once, in the table at the bottom of this file: its code, the stage
//! it comes from, the HTTP status, the RFC 6750 challenge it carries and the description a client
//! sees. Everything else (the enum, [`Reason::ALL`], every lookup) is generated from that table,
//! so a new reason cannot exist without an answer, and no `match` anywhere needs a fallback arm.
//!
//! Stage errors carry context for logs; each maps to exactly one [`Reason`], whose code never
//! changes once published (clients and dashboards match on it).

use std::fmt;

/// Which part of the walk a reason comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The request line itself (its path, where its query carries a token), before any token
    /// is verified.
    Request,
    /// The `Authorization` header and the token itself.
    Token,
    /// Signing keys and the revocation list (not the client's fault).
    Keys,
    /// The route policy and the revocation list.
    Policy,
    /// The gateway's own configuration.
    Config,
    /// The origin behind the gateway.
    Origin,
    /// The gateway failed to build its own answer.
    Internal,
}

/// What a refusal says in `WWW-Authenticate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// No `WWW-Authenticate`: no token could change the answer.
    None,
    /// `Bearer realm="…"` without an error code (RFC 6750 §3.1: no credentials at all, or
    /// trouble on the gateway's side that a client should not read as a bad token).
    Bare,
    /// `Bearer realm="…", error="<code>", error_description="…"` plus any parameters.
    Error(&'static str),
}

/// Seconds a client should wait on a 503 (keys or revocation list unavailable).
pub const RETRY_AFTER_SECONDS: u32 = 30;

macro_rules! reasons {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $code:literal, $stage:ident, $status:literal, $challenge:expr,
            $description:literal;
    )*) => {
        /// Why a request was refused (or could not be decided).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Reason {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),*];

            /// The stable, machine-readable code.
            pub const fn code(self) -> &'static str {
                match self { $(Reason::$variant => $code,)* }
            }

            /// Which part of the walk this reason comes from.
            pub const fn stage(self) -> Stage {
                match self { $(Reason::$variant => Stage::$stage,)* }
            }

            /// The HTTP status of the answer.
            pub const fn status(self) -> u16 {
                match self { $(Reason::$variant => $status,)* }
            }

            /// What the answer's `WWW-Authenticate` says.
            pub const fn challenge(self) -> Challenge {
                use Challenge::*;
                match self { $(Reason::$variant => $challenge,)* }
            }

            /// A short description safe to show any client: it never contains token material.
            pub const fn description(self) -> &'static str {
                match self { $(Reason::$variant => $description,)* }
            }
        }
    };
}

impl Reason {
    /// A route requirement the token does not meet (RFC 6750 `insufficient_scope`, 403).
    pub fn is_unmet_requirement(self) -> bool {
        matches!(self.challenge(), Challenge::Error("insufficient_scope"))
    }

    /// `Retry-After` for trouble that passes on its own.
    pub fn retry_after_seconds(self) -> Option<u32> {
        (self.status() == 503).then_some(RETRY_AFTER_SECONDS)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

reasons! {
    /// The request path is one that origins read in different ways (an encoded `/`, `\` or NUL,
    /// a backslash, a `;` path parameter, a control character, invalid UTF-8): refused, never
    /// forwarded.
    PathAmbiguous = "path_ambiguous", Request, 400, None,
        "the request path is ambiguous and is not accepted";
    /// The request's URL could not be read at all.
    RequestUnreadable = "request_unreadable", Request, 400, None,
        "the request URL could not be read";
    /// No bearer token (no `Authorization`, or another scheme).
    TokenMissing = "token_missing", Token, 401, Bare,
        "a bearer access token is required";
    /// `Authorization: Bearer` present but not RFC 6750 syntax (or sent twice).
    MalformedAuthorization = "malformed_authorization", Token, 400, Error("invalid_request"),
        "the Authorization header is not valid Bearer syntax";
    /// The token exceeds the configured size cap; nothing of it was parsed.
    TokenTooLarge = "token_too_large", Token, 401, Error("invalid_token"),
        "the token is larger than this API accepts";
    /// Not a compact JWS: segment count, empty segment or non-strict base64url.
    MalformedJws = "malformed_jws", Token, 401, Error("invalid_token"),
        "the token is not a compact JWS with three base64url segments";
    /// The JOSE header is not a JSON object of the expected shape.
    MalformedHeader = "malformed_header", Token, 401, Error("invalid_token"),
        "the token header is not valid";
    /// `alg` is anything but the configured algorithm (none, HS*, ES*, PS*, ...).
    AlgorithmNotAllowed = "alg_not_allowed", Token, 401, Error("invalid_token"),
        "the token's signing algorithm is not accepted";
    /// The header carries a member we refuse: `crit`, `jku`, `x5u`, `jwk`, `x5c`, `cty`.
    ForbiddenHeader = "forbidden_header", Token, 401, Error("invalid_token"),
        "the token header carries a parameter that is not accepted";
    /// No `kid` in the header.
    KidMissing = "kid_missing", Token, 401, Error("invalid_token"),
        "the token header has no key id";
    /// No key with this `kid` in the tenant's published keys.
    UnknownKid = "unknown_kid", Token, 401, Error("invalid_token"),
        "the token was signed with a key this tenant does not publish";
    /// The signature does not verify under the selected key.
    InvalidSignature = "invalid_signature", Token, 401, Error("invalid_token"),
        "the token signature is invalid";
    /// The claims are not a JSON object of the expected types (or repeat a member).
    MalformedClaims = "malformed_claims", Token, 401, Error("invalid_token"),
        "the token claims are not valid";
    /// `exp` is past (with skew).
    TokenExpired = "token_expired", Token, 401, Error("invalid_token"),
        "the token has expired";
    /// `nbf` is in the future (with skew).
    TokenNotYetValid = "token_not_yet_valid", Token, 401, Error("invalid_token"),
        "the token is not valid yet";
    /// `iat` is in the future, after `exp`, or not a sane time.
    InvalidIssuedAt = "invalid_iat", Token, 401, Error("invalid_token"),
        "the token issue time is not valid";
    /// `aud` names none of the configured audiences.
    InvalidAudience = "invalid_audience", Token, 401, Error("invalid_token"),
        "the token is not meant for this API";
    /// `iss` is not the tenant's issuer for this token version.
    InvalidIssuer = "invalid_issuer", Token, 401, Error("invalid_token"),
        "the token issuer is not accepted";
    /// `tid` is not a GUID or differs from the issuer's tenant segment.
    TenantMismatch = "tenant_mismatch", Token, 401, Error("invalid_token"),
        "the token tenant does not match its issuer";
    /// The signing key's `issuer` does not match the token's issuer.
    KeyIssuerMismatch = "key_issuer_mismatch", Token, 401, Error("invalid_token"),
        "the signing key does not belong to the token issuer";
    /// A token version (`ver`) this API does not accept.
    WrongTokenVersion = "wrong_token_version", Token, 401, Error("invalid_token"),
        "this token version is not accepted by this API";
    /// A Microsoft Graph / first-party token (Graph audience or `nonce` header).
    GraphToken = "graph_token", Token, 401, Error("invalid_token"),
        "a Microsoft Graph or first-party token cannot be used with this API";
    /// An ID token presented as an access token.
    IdToken = "id_token", Token, 401, Error("invalid_token"),
        "an ID token cannot be used as an access token";
    /// Personal Microsoft account token where only work or school accounts are accepted.
    ConsumerTenant = "consumer_tenant", Token, 401, Error("invalid_token"),
        "personal Microsoft accounts are not accepted";
    /// A tenant outside `ENTRA_ALLOWED_TENANTS`.
    TenantNotAllowed = "tenant_not_allowed", Token, 401, Error("invalid_token"),
        "tokens from this tenant are not accepted";
    /// The token carries neither `scp` nor `roles`, and the route does not accept such tokens
    /// (Microsoft.Identity.Web's IDW10201).
    NoPermissions = "no_permissions", Policy, 403, Error("insufficient_scope"),
        "the token carries no scopes or app roles";
    /// The token lacks every scope this route accepts.
    InsufficientScope = "insufficient_scope", Policy, 403, Error("insufficient_scope"),
        "the token lacks a required scope";
    /// The token lacks the app role this route requires.
    InsufficientRole = "insufficient_role", Policy, 403, Error("insufficient_scope"),
        "the token lacks a required app role";
    /// Delegated where app-only is required, or the reverse.
    TokenKindNotAllowed = "token_kind_not_allowed", Policy, 403, Error("insufficient_scope"),
        "this route does not accept this kind of token";
    /// The calling application (`azp`/`appid`) is not on the route's list.
    ClientNotAllowed = "client_not_allowed", Policy, 403, Error("insufficient_scope"),
        "the calling application is not allowed on this route";
    /// `azpacr`/`appidacr` below the route's minimum.
    ClientAuthTooWeak = "client_auth_too_weak", Policy, 403, Error("insufficient_scope"),
        "the calling application authenticated too weakly";
    /// The token's tenant is not among the route's tenants.
    RouteTenantNotAllowed = "route_tenant_not_allowed", Policy, 403, Error("insufficient_scope"),
        "tokens from this tenant are not accepted on this route";
    /// The caller is in none (or not all) of the route's groups (`groups`, object ids).
    InsufficientGroup = "insufficient_group", Policy, 403, Error("insufficient_scope"),
        "the caller is not in a group this route requires";
    /// The route requires groups but the token left them out: the user is in more groups
    /// than a token carries (`_claim_names.groups` or `hasgroups`). No new token changes that.
    GroupsOverage = "groups_overage", Policy, 403, None,
        "the token does not list the caller's groups (too many groups); use app roles, or read the groups from Microsoft Graph";
    /// `?access_token=` on a route (or for a method) that does not take tokens from the query.
    QueryTokenNotAllowed = "query_token_not_allowed", Request, 400, Error("invalid_request"),
        "this route does not accept a token in the query; send it in the Authorization header";
    /// A token in the query and another credential (`Authorization`, or a second
    /// `access_token`): RFC 6750 §2 allows one method per request.
    MultipleTokens = "multiple_tokens", Request, 400, Error("invalid_request"),
        "the request carries more than one token";
    /// A generic claim matcher did not match.
    ClaimMismatch = "claim_mismatch", Policy, 403, Error("insufficient_scope"),
        "a claim does not have an accepted value";
    /// The route's authentication context is missing from `acrs`: an Entra claims challenge.
    StepUpRequired = "step_up_required", Policy, 401, Error("insufficient_claims"),
        "a stronger authentication context is required";
    /// Step-up needed, but the token's `xms_cc` lacks `cp1`.
    StepUpUnsupportedClient = "step_up_unsupported_client", Policy, 403, None,
        "step-up is required but the client cannot handle claims challenges";
    /// App-only token on a step-up route.
    StepUpAppOnly = "step_up_app_only", Policy, 403, None,
        "this route requires a user and step-up authentication";
    /// `amr` lacks `mfa` (RFC 9470 step-up).
    MfaRequired = "mfa_required", Policy, 401, Error("insufficient_user_authentication"),
        "multi-factor authentication is required";
    /// `auth_time` older than the route's maximum age (RFC 9470 step-up).
    AuthTooOld = "auth_too_old", Policy, 401, Error("insufficient_user_authentication"),
        "a more recent sign-in is required";
    /// Client IP outside the route's ranges, or unknown where a rule needs it.
    ConditionIp = "condition_ip", Policy, 403, None,
        "requests from this address are not allowed";
    /// Country outside the route's list, or unknown where a rule needs it.
    ConditionCountry = "condition_country", Policy, 403, None,
        "requests from this country are not allowed";
    /// ASN outside the route's list, or unknown where a rule needs it.
    ConditionAsn = "condition_asn", Policy, 403, None,
        "requests from this network are not allowed";
    /// Outside the route's UTC time window.
    ConditionTime = "condition_time", Policy, 403, None,
        "requests are not allowed at this time";
    /// The token's `ipaddr` differs from the client IP (or either is unknown).
    ConditionIpaddr = "condition_ipaddr", Policy, 403, None,
        "the token was issued to another address";
    /// On the revocation list (token id, user or application).
    TokenRevoked = "token_revoked", Policy, 401, Error("invalid_token"),
        "the token has been revoked";
    /// Over the route's per-caller rate limit (`Retry-After`: the limit's period).
    RateLimited = "rate_limited", Policy, 429, None,
        "too many requests from this caller; try again later";
    /// No route matched and the policy's default is deny.
    NoRoute = "no_route", Policy, 403, None,
        "no route allows this request";
    /// A CORS preflight from an origin or for a method the policy does not allow.
    CorsNotAllowed = "cors_not_allowed", Policy, 403, None,
        "this cross-origin request is not allowed";
    /// No usable signing keys could be obtained (not the client's fault).
    KeysUnavailable = "keys_unavailable", Keys, 503, None,
        "signing keys are temporarily unavailable";
    /// No revocation list fresh enough to trust could be read (fail closed).
    RevocationUnavailable = "revocation_unavailable", Keys, 503, None,
        "the revocation list is temporarily unavailable";
    /// The rate-limiting binding failed to answer (fail closed).
    RateLimitUnavailable = "rate_limit_unavailable", Keys, 503, None,
        "the rate limiter is temporarily unavailable";
    /// The gateway's configuration is invalid; nothing is forwarded.
    ConfigInvalid = "config_invalid", Config, 500, None,
        "the gateway is not configured correctly";
    /// The gateway could not build its own answer (or trapped); nothing was forwarded.
    InternalError = "internal_error", Internal, 500, None,
        "the gateway failed while answering";
    /// The origin could not be reached or failed.
    OriginUnreachable = "origin_unreachable", Origin, 502, None,
        "the upstream service could not be reached";
    /// The origin did not answer within `GATE_ORIGIN_TIMEOUT_SECONDS`.
    OriginTimeout = "origin_timeout", Origin, 504, None,
        "the upstream service did not answer in time";
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

    /// The table's rows must agree with HTTP: a 401 always challenges (RFC 9110 §15.5.2), the
    /// client's mistakes are 4xx, the gateway's and origin's trouble 5xx without a challenge
    /// (a client must not drop a good token because keys were unavailable).
    #[test]
    fn statuses_and_challenges_agree() {
        for &reason in Reason::ALL {
            let (status, challenge) = (reason.status(), reason.challenge());
            match reason.stage() {
                Stage::Token | Stage::Policy | Stage::Request => {
                    assert!((400..500).contains(&status), "{reason}")
                }
                Stage::Keys | Stage::Config | Stage::Origin | Stage::Internal => {
                    assert!(status >= 500, "{reason}");
                    assert_eq!(challenge, Challenge::None, "{reason}");
                }
            }
            if status == 401 {
                assert_ne!(challenge, Challenge::None, "{reason}: a 401 must challenge");
            }
            if reason.is_unmet_requirement() {
                assert_eq!(status, 403, "{reason}");
            }
            assert_eq!(reason.retry_after_seconds().is_some(), status == 503);
        }
        assert_eq!(
            Reason::TokenMissing.challenge(),
            Challenge::Bare,
            "RFC 6750 §3.1: no error code without credentials"
        );
    }
}
