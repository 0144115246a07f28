//! The page's mirror of a run reads the worker's replies. The input edits a
//! real reply (20 s of the default scenario, made once): each three octets
//! `[offset (2, big-endian), value]` set one octet, and an input of one
//! octet `n` cuts the reply to `n` percent. The edited reply is an error,
//! or is taken as it comes (the mirror may then differ from the run), never
//! a panic; so are the raw input bytes as a reply.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mobike_playground::engine::codec::to_bytes;
use mobike_playground::engine::{Command, Engine};
use mobike_playground::live::Live;
use mobike_playground::session::{DEFAULT_SCENARIO, Session};
use std::sync::OnceLock;

fn session() -> Session {
    Session::from_toml(DEFAULT_SCENARIO).expect("the built-in scenario")
}

fn real_reply() -> &'static [u8] {
    static REPLY: OnceLock<Vec<u8>> = OnceLock::new();
    REPLY.get_or_init(|| {
        let mut engine = Engine::with(session());
        let advance = Command::Advance {
            dt: 20_000_000,
            budget_ms: 0.0,
        };
        to_bytes(&engine.handle(advance, &|| None))
    })
}

fuzz_target!(|data: &[u8]| {
    let mut reply = real_reply().to_vec();
    if let [n] = data {
        reply.truncate(reply.len() * usize::from(*n).min(100) / 100);
    }
    for edit in data.chunks_exact(3) {
        let at = usize::from(u16::from_be_bytes([edit[0], edit[1]]));
        if let Some(b) = reply.get_mut(at) {
            *b = edit[2];
        }
    }
    let mut live = Live::here(session(), 0);
    for bytes in [&reply[..], data] {
        live.push_waiting();
        let _ = live.receive(bytes);
    }
    let _ = (live.now(), live.chart().rows.len(), live.world.hosts().len());
});
