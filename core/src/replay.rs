//! Whether a request the walk forwarded may be answered again, for the very same request,
//! without the walk, and until when. The edge keeps such a forward (destination, headers dropped
//! and added, the decision line) under a key made of everything the walk and the forward read of
//! the request: method, URL, `Authorization`, the header names and `Connection`. A request with
//! the same key is then answered from it in JavaScript, without entering wasm (issue 15: a cache
//! hit may skip wasm where the policy's decision is provably unchanged).
//!
//! The decision is the same for the same key only where nothing outside the key can change it,
//! so a forward is replayable only when every one of these holds:
//! - the configuration reads nothing else per request and adds nothing per request: no CORS
//!   (its answer depends on `Origin`), no shadow mode, no signed assertion (it names the
//!   request), no origin timeout of the gateway's, no revocation list (it changes under the
//!   token), no counters (`GATE_METRICS` sees every request);
//! - the route that applied reads nothing but the token, the method and the path: a token route
//!   (not public, not report-only) without conditions on the request (IP, country, ASN, time,
//!   `ipaddr`), without a recent sign-in limit (it runs out with time), a rate limit, tokens in
//!   the query or WebSocket upgrades (the `Upgrade` value is not in the key);
//! - the walk forwarded a verified caller that the token cache already held (a token seen once
//!   is mostly never seen again: remembering its forward would cost every new token for
//!   nothing), and recorded no finding;
//! - time: before the token's `exp`, before the key set that vouched for it must be looked at
//!   again (`CachePolicy::held_until`), and at most [`MAX_REPLAY_SECONDS`] after this walk.
//!
//! A key set whose content changes makes the edge forget every replay at once, as the token
//! cache forgets the tokens of a withdrawn key.

use crate::config::GateConfig;
use crate::identity::VerifiedIdentity;
use crate::policy::Route;
use crate::time::UnixTime;

/// However long the token and the keys allow, the walk runs again at least this often for a key.
pub const MAX_REPLAY_SECONDS: i64 = 300;

/// What the edge knows besides the walk.
#[derive(Debug, Clone, Copy)]
pub struct ReplayContext {
    /// The time of the walk.
    pub now: UnixTime,
    /// When the key set that vouched for the token must be looked at again.
    pub keys_until: UnixTime,
    /// Counters (`GATE_METRICS`) are written for every request.
    pub metrics: bool,
}

/// A walk's forward, as far as replay cares.
pub struct Forwarded<'a> {
    pub config: &'a GateConfig,
    /// The route that applied (`None`: the default).
    pub route: Option<&'a Route>,
    pub identity: &'a VerifiedIdentity,
    pub revocations_bound: bool,
    /// The request carried a token in its query string.
    pub query_token: bool,
    /// Report-only or shadow-mode findings were recorded.
    pub findings: bool,
    /// The token cache vouched for the caller (the token was seen before).
    pub cached: bool,
}

/// Until when `forwarded` may be answered again for the same key; `None`: never.
pub fn replay_until(forwarded: &Forwarded<'_>, context: ReplayContext) -> Option<UnixTime> {
    let config = forwarded.config;
    let configured_per_request = config.policy.cors.is_some()
        || config.shadow
        || config.assertion_key.is_some()
        || config.origin_timeout_seconds.is_some()
        || forwarded.revocations_bound
        || context.metrics;
    let walked_per_request = forwarded.query_token || forwarded.findings;
    if configured_per_request || walked_per_request || !forwarded.cached {
        return None;
    }
    if forwarded
        .route
        .is_some_and(reads_more_than_token_and_target)
    {
        return None;
    }
    let until = forwarded
        .identity
        .expires_at()
        .min(context.keys_until.seconds())
        .min(context.now.seconds().saturating_add(MAX_REPLAY_SECONDS));
    (until > context.now.seconds()).then_some(UnixTime(until))
}

/// A route whose decision could differ between two requests with the same token, method and
/// path.
fn reads_more_than_token_and_target(route: &Route) -> bool {
    route.public
        || route.report_only
        || route.conditions.is_some()
        || route.query_token
        || route.websocket
        || route.rate_limit.is_some()
        || route
            .step_up
            .as_ref()
            .is_some_and(|step_up| step_up.max_age_seconds.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests_support::config_with;
    use crate::identity::tests_support::identity;

    fn context(caller: &VerifiedIdentity) -> ReplayContext {
        let now = caller.expires_at() - 3600;
        ReplayContext {
            now: UnixTime(now),
            keys_until: UnixTime(now + 86_400),
            metrics: false,
        }
    }

    // The walk cannot forward a query token or a finding without a route or setting that
    // refuses replay by itself, so only here does each flag stand alone: each must still
    // refuse on its own.
    #[test]
    fn a_query_token_or_a_finding_alone_refuses_replay() {
        let config = config_with(&[]);
        let caller = identity();
        let forwarded = |query_token, findings| Forwarded {
            config: &config,
            route: None,
            identity: &caller,
            revocations_bound: false,
            query_token,
            findings,
            cached: true,
        };
        let now = context(&caller).now.seconds();
        assert_eq!(
            replay_until(&forwarded(false, false), context(&caller)),
            Some(UnixTime(now + MAX_REPLAY_SECONDS))
        );
        assert_eq!(
            replay_until(&forwarded(true, false), context(&caller)),
            None
        );
        assert_eq!(
            replay_until(&forwarded(false, true), context(&caller)),
            None
        );
    }
}
