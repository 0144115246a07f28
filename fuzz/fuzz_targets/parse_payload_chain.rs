//! `payload::parse_chain` on arbitrary bytes: the first octet is the type of
//! the first payload (as a header's or SK payload's Next Payload gives it),
//! the rest is the chain (e.g. the decrypted inside of an SK payload).
//!
//! Checks: no panic, and the parsed form is canonical: emitting the payloads
//! and parsing them again gives the same payloads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobike_wire::PayloadType;
use mobike_wire::payload::{self, notation};

fuzz_target!(|data: &[u8]| {
    let Some((&first, chain)) = data.split_first() else {
        return;
    };
    let first = PayloadType::from(first);
    let _ = payload::walk_chain(first, chain);
    let Ok(payloads) = payload::parse_chain(first, chain) else {
        return;
    };
    for p in &payloads {
        let _ = notation(p, true);
        let _ = notation(p, false);
    }
    let mut out = Vec::new();
    let emitted_first = payload::emit_chain(&payloads, &mut out);
    let again =
        payload::parse_chain(emitted_first, &out).expect("our own emitted chain does not parse");
    assert_eq!(again, payloads, "parse(emit(parse(x))) != parse(x)");
});
