//! The Rust side of a replayed forward (replay.mjs; the core's `replay` says when one is
//! allowed): the plan handed to JavaScript as the walk forwards, and the ticket that answers a
//! replay whose origin fails exactly as a forward's failure is answered (`pending`).

use super::js;
use super::log::Decision;
use super::pending;
use entra_gate_core::UnixTime;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

/// What a replay of this request needs besides what the forward already built.
pub struct Plan {
    pub until: UnixTime,
    /// The decision as a replay's line says it.
    pub decision: Decision,
    pub realm: String,
}

/// Answers a replay whose origin fetch failed (a 502 refusal and a denied decision line), held
/// by replay.mjs for as long as it keeps the plan.
#[wasm_bindgen]
pub struct ReplayTicket {
    decision: Decision,
    realm: String,
}

#[wasm_bindgen]
impl ReplayTicket {
    /// The refusal for `error`, the origin fetch's rejection, with the replay's request id.
    /// The ticket's decision takes this request's id, start and refusal: each failure sets all
    /// three anew, and a successful replay writes the line made when the plan was.
    pub fn failed(&mut self, error: JsValue, request_id: String, started_ms: f64) -> JsValue {
        self.decision.restart(request_id, started_ms);
        pending::answer(&mut self.decision, &[], &self.realm, None, Err(error))
    }
}

/// Hands the forward of `request` to replay.mjs: `drop` and `pairs` as sent (the request id's
/// pair first, which each replay makes anew), the line with its slots.
pub fn remember<N: AsRef<str>, V: AsRef<str>>(
    request: &web_sys::Request,
    plan: Plan,
    outbound: &js::Outbound<'_, N, V>,
) -> Result<(), JsValue> {
    let Some(((id_header, _), identity_pairs)) = outbound.pairs.split_first() else {
        return Ok(());
    };
    #[allow(clippy::as_conversions)] // Seconds since 1970 are exact in an f64 for ages to come.
    let until_ms = plan.until.seconds() as f64 * 1000.0;
    js::remember(
        request,
        until_ms,
        outbound.url,
        &outbound.drop.join("\n"),
        id_header.as_ref(),
        &js::header_lines(identity_pairs)?,
        outbound.service,
        &plan.decision.replay_line(),
        plan.decision.allowed_per_million(),
        ReplayTicket {
            decision: plan.decision,
            realm: plan.realm,
        },
    );
    Ok(())
}
