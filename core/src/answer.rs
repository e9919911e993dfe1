//! What a refused request is told: status, RFC 6750 challenge and an RFC 9457 problem body.
//! Nothing here ever includes token material; descriptions come from a fixed table.

use super::json::write::ObjectWriter;
use super::reason::{Challenge, Reason};

/// A refusal, ready for the edge to turn into a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status, from the reason's table row.
    pub status: u16,
    /// The `WWW-Authenticate` value; `None` when the reason carries no challenge.
    pub www_authenticate: Option<String>,
    /// `Retry-After`, on a 503 only (trouble that passes on its own).
    pub retry_after_seconds: Option<u32>,
    /// `application/problem+json`
    pub body: String,
}

/// A refusal with no challenge parameters beyond the reason's own.
pub fn refuse(reason: Reason, realm: &str, request_id: &str) -> Answer {
    refuse_with(
        reason,
        &[],
        Challenger {
            realm,
            resource_metadata: None,
        },
        request_id,
    )
}

/// What every challenge of a gateway says, whatever the reason.
#[derive(Debug, Clone, Copy)]
pub struct Challenger<'a> {
    /// `realm`.
    pub realm: &'a str,
    /// `resource_metadata` (RFC 9728 §5.1): where the client finds how to get a token.
    pub resource_metadata: Option<&'a str>,
}

/// A refusal with extra challenge parameters (`scope`, `claims`, `max_age`, ...), which are
/// produced by the gateway itself and quoted like every other value.
pub fn refuse_with(
    reason: Reason,
    params: &[(&str, String)],
    challenger: Challenger<'_>,
    request_id: &str,
) -> Answer {
    let status = reason.status();
    let realm = quoted(challenger.realm);
    let mut www_authenticate = match reason.challenge() {
        Challenge::None => None,
        Challenge::Bare => Some(format!("Bearer realm=\"{realm}\"")),
        Challenge::Error(error) => {
            let mut challenge = format!(
                "Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{}\"",
                quoted(reason.description())
            );
            for (name, value) in params {
                challenge.push_str(&format!(", {name}=\"{}\"", quoted(value)));
            }
            Some(challenge)
        }
    };
    if let (Some(challenge), Some(url)) = (&mut www_authenticate, challenger.resource_metadata) {
        challenge.push_str(&format!(", resource_metadata=\"{}\"", quoted(url)));
    }
    // RFC 9457: `type`, `title`, `status`, `detail`, then ours.
    let body = ObjectWriter::new()
        .str("type", "about:blank")
        .str("title", title(status))
        .u64("status", u64::from(status))
        .str("detail", reason.description())
        .str("reason", reason.code())
        .str("request_id", request_id)
        .finish();
    Answer {
        status,
        www_authenticate,
        retry_after_seconds: reason.retry_after_seconds(),
        body,
    }
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// RFC 9110 quoted-string content: backslash-escape `"` and `\`.
fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_token_gets_a_bare_challenge() {
        let a = refuse(Reason::TokenMissing, "api", "r1");
        assert_eq!(a.status, 401);
        assert_eq!(a.www_authenticate.as_deref(), Some("Bearer realm=\"api\""));
        let body: serde_json::Value = serde_json::from_str(&a.body).expect("json");
        assert_eq!(body["reason"], "token_missing");
        assert_eq!(body["status"], 401);
        assert_eq!(body["request_id"], "r1");
    }

    #[test]
    fn bad_tokens_get_invalid_token() {
        let a = refuse(Reason::TokenExpired, "api", "r1");
        assert_eq!(a.status, 401);
        assert_eq!(
            a.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the token has expired\"")
        );
    }

    #[test]
    fn insufficient_scope_names_the_scopes() {
        let a = refuse_with(
            Reason::InsufficientScope,
            &[("scope", "items.write".into())],
            Challenger {
                realm: "api",
                resource_metadata: None,
            },
            "r",
        );
        assert_eq!(a.status, 403);
        assert_eq!(
            a.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"the token lacks a required scope\", scope=\"items.write\"")
        );
        assert_eq!(
            refuse(Reason::ConditionCountry, "api", "r").www_authenticate,
            None
        );
        assert_eq!(refuse(Reason::StepUpRequired, "api", "r").status, 401);
    }

    #[test]
    fn every_challenge_points_at_the_resource_metadata() {
        let challenger = Challenger {
            realm: "api",
            resource_metadata: Some("https://api.contoso.com/.well-known/oauth-protected-resource"),
        };
        let bare = refuse_with(Reason::TokenMissing, &[], challenger, "r");
        assert_eq!(
            bare.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", resource_metadata=\"https://api.contoso.com/.well-known/oauth-protected-resource\"")
        );
        let scoped = refuse_with(
            Reason::InsufficientScope,
            &[("scope", "items.write".into())],
            challenger,
            "r",
        );
        assert_eq!(
            scoped.www_authenticate.as_deref(),
            Some("Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"the token lacks a required scope\", scope=\"items.write\", resource_metadata=\"https://api.contoso.com/.well-known/oauth-protected-resource\"")
        );
        let quoted = Challenger {
            realm: "api",
            resource_metadata: Some("https://h/\"x"),
        };
        assert!(refuse_with(Reason::TokenMissing, &[], quoted, "r")
            .www_authenticate
            .is_some_and(|c| c.ends_with(r#"resource_metadata="https://h/\"x""#)));
        assert_eq!(
            refuse_with(Reason::NoRoute, &[], challenger, "r").www_authenticate,
            None,
            "no challenge, no parameter"
        );
    }

    #[test]
    fn every_status_has_its_title() {
        for &reason in Reason::ALL {
            assert_ne!(title(reason.status()), "Error", "{reason}");
        }
    }

    #[test]
    fn server_side_trouble_is_not_a_401() {
        let a = refuse(Reason::KeysUnavailable, "api", "r1");
        assert_eq!(
            (a.status, a.retry_after_seconds, a.www_authenticate),
            (503, Some(30), None)
        );
        assert_eq!(refuse(Reason::ConfigInvalid, "api", "r").status, 500);
        assert_eq!(
            refuse(Reason::MalformedAuthorization, "api", "r").status,
            400
        );
    }
}
