//! One WebSocket connection's text frames, end to end, through rostrum's public API: each frame
//! is parsed (`protocol::parse`), converted for every kind of caller (`into_command`), and
//! handed to the session actor's own core (`session::core::Core`), which decides it against a
//! realistic live session, applies it when accepted and publishes it; every answer is phrased
//! (`protocol::wire_error`, `protocol::refusal`, `protocol::encode`).
//!
//! The input is split at newlines into up to eight frames sent one after another on the same
//! session, five minutes apart, so accepted commands change what the next frame meets.
//!
//! The driver is `src/protocol/fuzz_tests.rs`, shared with the property tests of `cargo test`;
//! it names the crate's modules as `crate::protocol`, `crate::queue` and `crate::session`, hence
//! the imports below.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rostrum::{protocol, queue, session};

#[path = "../../src/protocol/fuzz_tests.rs"]
mod fuzz_tests;

use fuzz_tests::{Live, drive};

/// Frames per input at most: a long input is still one short conversation.
const MAX_FRAMES: usize = 8;

fuzz_target!(|data: &[u8]| {
    let mut live = Live::realistic();
    for frame in data.split(|&b| b == b'\n').take(MAX_FRAMES) {
        live.tick(5 * 60_000);
        drive(&mut live, frame);
    }
    assert!(
        queue::State::replay(&live.log) == *live.state(),
        "the log replays to the live state"
    );
});
