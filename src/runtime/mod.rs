//! The Worker's hand-written async plumbing, free of any JavaScript type so it is compiled and
//! tested natively with a fake clock (`src/edge` supplies the clock, the promises and the
//! callbacks): the executor's task table, the slots of awaited promises, the table of requests
//! waiting on the origin, and the sweeps that bound them. Single flight lives in the core (`entra_gate_core::Flight`).

pub mod slots;
pub mod sweep;
pub mod tasks;
pub mod waiting;
