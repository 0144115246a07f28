//! `Message::parse` and the payload walk on arbitrary bytes (an IKE message
//! as it arrives on UDP 500, or on 4500 after the non-ESP marker).
//!
//! Checks: no panic; what `Message::parse` accepts, `walk_chain` walks to the
//! same payloads; the notation prints; and the parsed form is canonical:
//! emitting it and parsing again gives the same parsed form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobike_wire::header::HEADER_LEN;
use mobike_wire::message::{Message, Notation};
use mobike_wire::payload;
use mobike_wire::{Flags, Header};

fuzz_target!(|data: &[u8]| {
    // The header alone, and a walk of whatever follows it.
    if let Ok(h) = Header::parse(data) {
        let _ = payload::walk_chain(h.next_payload, &data[HEADER_LEN..h.length as usize]);
    }

    let Ok(m) = Message::parse(data) else {
        return;
    };
    let len = m.header.length as usize;
    assert!(len >= HEADER_LEN && len <= data.len());
    let raw = payload::walk_chain(m.header.next_payload, &data[HEADER_LEN..len])
        .expect("walk_chain rejects what Message::parse accepted");
    assert_eq!(raw.len(), m.payloads.len());
    for (r, p) in raw.iter().zip(&m.payloads) {
        assert_eq!(r.kind, p.kind());
    }

    let initiator = m.header.flags.initiator();
    let _ = Notation {
        outer: &m.payloads,
        inner: None,
        request: initiator,
    }
    .to_string();
    let _ = m.header.exchange.to_string();

    // Round trip. Emitting clears the reserved and version flag bits
    // (RFC 7296 §3.1), so compare with those cleared.
    let bytes = Message::emit_plain(m.header, &m.payloads);
    let again = Message::parse(&bytes).expect("our own emitted message does not parse");
    let mut want = m.clone();
    want.header.flags = Flags(m.header.flags.0 & (Flags::INITIATOR | Flags::RESPONSE));
    want.header.length = bytes.len() as u32;
    assert_eq!(again, want, "parse(emit(parse(x))) != parse(x)");
    assert_eq!(Message::emit_plain(again.header, &again.payloads), bytes);
});
